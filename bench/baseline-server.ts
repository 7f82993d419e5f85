import crypto from 'node:crypto';
import http from 'node:http';
import argon2 from 'argon2';
import Provider from 'oidc-provider';
import { createAdapterClass } from '../src/provider/adapter.js';
import { createSecretBox } from '../src/security/secret-box.js';
import { CHECKPOINT_EVERY_MS } from '../src/store/open-store.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';

/*
 * The baseline for `npm run bench`: a bare node-oidc-provider (its in-memory adapter, no second
 * factor, no durable store) with a password sign-in page that does the same argon2id work as
 * Twofold. Run as its own process so its CPU time can be read from /proc.
 *
 * With DATA_FILE, the same provider keeps its sessions, interactions, grants and codes in Twofold's
 * embedded store, through Twofold's adapter, as Twofold does: what keeping them costs, apart from
 * everything else Twofold adds (BENCH_DURABLE_BASELINE=1).
 */
const port = Number(process.env.PORT);
const durable = process.env.DATA_FILE ? openSqliteStore(process.env.DATA_FILE, { checkpointEveryMs: CHECKPOINT_EVERY_MS }) : null;
const issuer = `http://127.0.0.1:${port}`;
const redirectUri = process.env.REDIRECT_URI!;
const passwordHash = process.env.PASSWORD_HASH!;
const dummy = await argon2.hash(crypto.randomBytes(16).toString('hex'), argon2Options());

function argon2Options() {
  return { type: argon2.argon2id, memoryCost: Number(process.env.PASSWORD_HASH_MEMORY_KIB), timeCost: Number(process.env.PASSWORD_HASH_ITERATIONS), parallelism: 1 } as const;
}

const provider = new Provider(issuer, {
  clients: [{ client_id: 'bench', token_endpoint_auth_method: 'none', redirect_uris: [redirectUri], grant_types: ['authorization_code'], response_types: ['code'] }],
  ...(durable ? { adapter: createAdapterClass(durable, createSecretBox(crypto.randomBytes(32).toString('base64'))) } : {}),
  cookies: { keys: ['baseline-cookie-key'] },
  features: { devInteractions: { enabled: false } },
  claims: { openid: ['sub', 'amr', 'acr', 'auth_time'] },
  async findAccount(_ctx, sub) {
    return { accountId: sub, claims: async () => ({ sub }) };
  },
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
    grant.addOIDCScope('openid');
    await grant.save();
    return grant;
  },
});
provider.use(async (ctx, next) => {
  const match = /^\/interaction\/([^/]+)(\/login)?$/.exec(ctx.path);
  if (!match) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (ctx.method === 'GET') {
    ctx.type = 'html';
    ctx.body = `<form method="post" action="/interaction/${details.uid}/login"><input name="email"><input name="password" type="password"><button>Sign in</button></form>`;
    return;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
  const form = new URLSearchParams(Buffer.concat(chunks).toString());
  const email = form.get('email') ?? '';
  const ok = await argon2.verify(email.endsWith('@bench.test') ? passwordHash : dummy, form.get('password') ?? '');
  if (!ok) {
    ctx.status = 401;
    ctx.body = 'wrong';
    return;
  }
  await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: email, amr: ['pwd'] } }, { mergeWithLastSubmission: false });
  ctx.respond = false;
});
http.createServer(provider.callback()).listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
// An orderly exit, so that --cpu-prof (BENCH_PROFILE=1) writes its profile.
process.once('SIGTERM', () => process.exit(0));
