import crypto from 'node:crypto';
import http from 'node:http';
import * as jose from 'jose';
import Provider from 'oidc-provider';
import { freePort } from './twofold.js';

/** An account at the upstream provider: what its ID tokens will assert. */
export interface UpstreamAccount {
  sub: string;
  email: string;
  email_verified: boolean;
  name?: string;
}

/** How the proxy in front of the upstream misbehaves, to try each failure mode on real traffic. */
export type Tampering = 'none' | 'bad-signature' | 'wrong-nonce' | 'token-endpoint-down';

export interface Upstream {
  /** The issuer as Twofold sees it (the proxy in front of the provider). */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly accounts: Map<string, UpstreamAccount>;
  /** `amr` the next sign-ins report (RFC 8176). */
  amr: string[];
  /** The next sign-ins are cancelled by the user (access_denied). */
  cancel: boolean;
  tampering: Tampering;
  close(): Promise<void>;
}

/**
 * A second, real OpenID provider (a bare node-oidc-provider) on another loopback host name — so a
 * browser keeps its cookies apart — behind a small proxy that can tamper with the token response.
 * Its sign-in is automatic: the account is the one whose email is the `login_hint`.
 */
export async function startUpstream(redirectUri: string): Promise<Upstream> {
  const proxyPort = await freePort();
  const providerPort = await freePort();
  const issuer = `http://localhost:${proxyPort}`;
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'upstream-1', alg: 'RS256', use: 'sig' };
  const signingKey = await jose.importJWK(jwk, 'RS256');

  const upstream: Upstream = {
    issuer,
    clientId: 'twofold',
    clientSecret: crypto.randomBytes(24).toString('base64url'),
    accounts: new Map(),
    amr: ['pwd'],
    cancel: false,
    tampering: 'none',
    close: async () => undefined,
  };
  const bySub = (sub: string) => [...upstream.accounts.values()].find((account) => account.sub === sub);

  const provider = new Provider(issuer, {
    clients: [{ client_id: upstream.clientId, client_secret: upstream.clientSecret, redirect_uris: [redirectUri], grant_types: ['authorization_code'], response_types: ['code'] }],
    jwks: { keys: [jwk as never] },
    cookies: { keys: [crypto.randomBytes(16).toString('hex')] },
    claims: { openid: ['sub', 'amr'], email: ['email', 'email_verified'], profile: ['name'] },
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    async findAccount(_ctx, sub) {
      const account = bySub(sub);
      return account ? { accountId: sub, claims: async () => ({ ...account }) } : undefined;
    },
    async loadExistingGrant(ctx) {
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
  });
  provider.use(async (ctx, next) => {
    const match = /^\/interaction\/([^/]+)$/.exec(ctx.path);
    if (!match) return next();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const account = upstream.accounts.get(String(details.params.login_hint ?? '').toLowerCase());
    const result = upstream.cancel || !account
      ? { error: 'access_denied', error_description: 'the user cancelled' }
      : { login: { accountId: account.sub, amr: upstream.amr } };
    await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
    ctx.respond = false;
  });
  const providerServer = http.createServer(provider.callback());
  await new Promise<void>((resolve) => providerServer.listen(providerPort, '127.0.0.1', () => resolve()));

  const tamper = async (body: string): Promise<string> => {
    const json = JSON.parse(body) as { id_token?: string };
    if (!json.id_token) return body;
    const [header, payload, signature] = json.id_token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (upstream.tampering === 'bad-signature') {
      json.id_token = [header, Buffer.from(JSON.stringify({ ...claims, email: 'someone-else@city.test' })).toString('base64url'), signature].join('.');
    } else if (upstream.tampering === 'wrong-nonce') {
      json.id_token = await new jose.SignJWT({ ...claims, nonce: 'not-the-nonce-twofold-sent' }).setProtectedHeader({ alg: 'RS256', kid: 'upstream-1' }).sign(signingKey);
    }
    return JSON.stringify(json);
  };

  const proxy = http.createServer((request, response) => {
    const isToken = request.url?.startsWith('/token');
    if (isToken && upstream.tampering === 'token-endpoint-down') {
      request.socket.destroy();
      return;
    }
    const forward = http.request({ host: '127.0.0.1', port: providerPort, path: request.url, method: request.method, headers: { ...request.headers, host: `localhost:${proxyPort}` } }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('end', () => {
        void (async () => {
          let body = Buffer.concat(chunks).toString('utf8');
          if (isToken && answer.statusCode === 200) body = await tamper(body);
          const headers = { ...answer.headers };
          delete headers['content-length'];
          response.writeHead(answer.statusCode ?? 502, headers);
          response.end(body);
        })();
      });
    });
    request.pipe(forward);
  });
  await new Promise<void>((resolve) => proxy.listen(proxyPort, '127.0.0.1', () => resolve()));

  upstream.close = async () => {
    proxy.closeAllConnections();
    providerServer.closeAllConnections();
    await Promise.all([new Promise((resolve) => proxy.close(resolve)), new Promise((resolve) => providerServer.close(resolve))]);
  };
  return upstream;
}
