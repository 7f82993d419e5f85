import crypto from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { Browser, csrfTokenOf } from '../support/browser.js';
import { cli } from '../support/cli.js';
import { startTwofoldProcess, type TwofoldProcess } from '../support/process.js';
import { REDIRECT_URI } from '../support/relying-party.js';
import { freePort, tempDir } from '../support/twofold.js';

const PASSWORD = 'a long enough password';
const SIGN_INS_BEFORE_SIGTERM = 8;
const CONCURRENT = 6;
/** Connection errors of a request the server never read: refused by a closed port, or cut before it was parsed. */
const NOT_ACCEPTED = new Set(['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE']);

interface Exchange {
  readonly id: string;
  readonly status?: number;
  readonly error?: string;
}

/**
 * Sign-ins driven request by request, each request tagged with its own X-Request-Id so that the
 * server's log says which ones it accepted. A request that fails to connect is sent again (with a
 * new id) once `available` says a server is there: what a browser does when the user reloads.
 */
class SignInDriver {
  readonly exchanges: Exchange[] = [];
  begun = 0;
  completed = 0;
  #next = 0;

  constructor(private readonly origin: string, private readonly available: () => Promise<void>) {}

  async #send(browser: Browser, url: string, init: RequestInit = {}): Promise<Response> {
    for (;;) {
      const id = `test-${(this.#next += 1)}`;
      try {
        const response = await browser.request(url, { ...init, headers: { ...(init.headers as Record<string, string>), 'X-Request-Id': id } });
        this.exchanges.push({ id, status: response.status });
        return response;
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause;
        this.exchanges.push({ id, error: cause?.code ?? (error as Error).message });
        await this.available();
      }
    }
  }

  /** One complete sign-in: authorize, the sign-in page, the password, back to the relying party, tokens. */
  async signIn(): Promise<void> {
    this.begun += 1;
    const browser = new Browser(this.origin);
    const verifier = crypto.randomBytes(32).toString('base64url');
    const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
    const authorize = `/auth?${new URLSearchParams({ client_id: 'app', response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256' })}`;
    const toLogin = await this.#send(browser, authorize);
    const loginUrl = toLogin.headers.get('location')!;
    const loginPage = await (await this.#send(browser, loginUrl)).text();
    const submitted = await this.#send(browser, `${loginUrl}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrfTokenOf(loginPage), email: 'ada@x.test', password: PASSWORD }),
    });
    const resumed = await this.#send(browser, submitted.headers.get('location')!);
    const code = new URL(resumed.headers.get('location')!).searchParams.get('code');
    if (!code) throw new Error(`no code after the sign-in: ${resumed.status} ${resumed.headers.get('location')}`);
    const tokens = await this.#send(browser, '/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, client_id: 'app', code_verifier: verifier }),
    });
    if (!(await tokens.json() as { id_token?: string }).id_token) throw new Error(`no ID token: ${tokens.status}`);
    this.completed += 1;
  }
}

describe('SIGTERM', () => {
  it('stops accepting, finishes the sign-ins in flight, closes the store and exits 0; the restarted server completes the rest', async () => {
    const port = await freePort();
    // Slow password hashing keeps several sign-ins in flight at every moment.
    const env = { PORT: String(port), DATA_DIR: tempDir(), ISSUER: `http://127.0.0.1:${port}`, PASSWORD_HASH_ITERATIONS: '10' };
    await cli(env.DATA_DIR, ['user', 'create', 'ada@x.test', '--password', PASSWORD], { env });
    await cli(env.DATA_DIR, ['client', 'create', 'app', '--redirect-uri', REDIRECT_URI, '--first-party'], { env });

    const first = await startTwofoldProcess(env);
    let second: TwofoldProcess | undefined;
    let restarted!: () => void;
    const available = new Promise<void>((resolve) => {
      restarted = resolve;
    });
    const driver = new SignInDriver(first.url, () => available);
    let stopping = false;
    try {
      const loops = Array.from({ length: CONCURRENT }, async () => {
        while (!stopping) await driver.signIn();
      });
      const enoughSignIns = (async () => {
        while (driver.completed < SIGN_INS_BEFORE_SIGTERM) await new Promise((resolve) => setTimeout(resolve, 20));
      })();
      // A sign-in that fails before the signal fails the test here, instead of leaving it waiting.
      await Promise.race([enoughSignIns, Promise.all(loops)]);
      stopping = true;
      const exit = await first.stop('SIGTERM');
      expect(exit).toStrictEqual({ code: 0, signal: null });

      second = await startTwofoldProcess(env);
      restarted();
      await Promise.all(loops);

      const logged = first.events();
      const signal = logged.findIndex((event) => String(event.message).startsWith('SIGTERM received'));
      expect(signal).toBeGreaterThan(0);
      expect(logged.at(-1)?.message).toBe('Twofold stopped');
      // Within the 10 s it may take: nothing in flight had to be cut (said by the server, not timed here).
      expect(logged.filter((event) => String(event.message).includes('were cut'))).toStrictEqual([]);
      // Requests were in flight when the signal came, and finished after it.
      const finishedAfter = logged.slice(signal).filter((event) => event.message === 'request' && String(event.requestId).startsWith('test-'));
      expect(finishedAfter.length).toBeGreaterThan(0);

      const accepted = new Map<string, number>();
      for (const process of [first, second]) {
        for (const event of process.events()) if (event.message === 'request') accepted.set(String(event.requestId), Number(event.status));
      }
      // No 5xx at all.
      expect(driver.exchanges.filter((exchange) => (exchange.status ?? 0) >= 500)).toStrictEqual([]);
      // Every request a server accepted got its answer, the one the server logged — none was reset.
      for (const exchange of driver.exchanges.filter(({ id }) => accepted.has(id))) {
        expect(exchange).toStrictEqual({ id: exchange.id, status: accepted.get(exchange.id) });
      }
      // What failed was never accepted: refused at the closed port, or cut before the server read it.
      const failed = driver.exchanges.filter((exchange) => exchange.error !== undefined);
      expect(failed.length).toBeGreaterThan(0);
      for (const exchange of failed) {
        expect([exchange.id, accepted.has(exchange.id), NOT_ACCEPTED.has(exchange.error!)]).toStrictEqual([exchange.id, false, true]);
      }
      // Every sign-in begun was completed, across the restart: none was lost.
      expect(driver.completed).toBe(driver.begun);
    } finally {
      stopping = true;
      restarted();
      await first.stop('SIGKILL');
      if (second) expect(await second.stop('SIGINT')).toStrictEqual({ code: 0, signal: null });
    }
  });
});
