import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { eventually } from './eventually.js';

/**
 * A relying party's back-channel logout endpoint (OpenID Connect Back-Channel Logout 1.0 §2.5), as a
 * real HTTP server on loopback: it keeps every logout token POSTed to it and answers 200. It can be
 * started on a port chosen before (to come up after Twofold has already tried it).
 */
export class LogoutReceiver {
  readonly tokens: string[] = [];
  #server: http.Server | undefined;

  /** Listens on `port` (0: any) and returns the back-channel logout URI. */
  async start(port = 0): Promise<string> {
    this.#server = http.createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => {
        body += chunk;
      });
      request.on('end', () => {
        const token = new URLSearchParams(body).get('logout_token');
        const ok = request.method === 'POST' && request.headers['content-type'] === 'application/x-www-form-urlencoded' && token !== null;
        if (ok) this.tokens.push(token);
        response.writeHead(ok ? 200 : 400, { 'cache-control': 'no-store' }).end();
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(port, '127.0.0.1', () => resolve()));
    return LogoutReceiver.uriAt((this.#server.address() as AddressInfo).port);
  }

  static uriAt(port: number): string {
    return `http://127.0.0.1:${port}/backchannel-logout`;
  }

  /** Waits until `count` tokens have arrived; returns them. */
  waitForTokens(count: number): Promise<string[]> {
    return eventually(() => this.tokens.length >= count && this.tokens);
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (!server?.listening) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * Verifies a logout token's signature against the issuer's JWKS, its `typ` (logout+jwt), issuer and
 * audience, as a relying party must (§2.6); returns its claims for the test to look at.
 */
export async function verifyLogoutToken(token: string, issuer: string, audience: string): Promise<JWTPayload> {
  const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(`${issuer}/jwks`)), { issuer, audience, typ: 'logout+jwt' });
  return payload;
}

/** The event a logout token carries. */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
