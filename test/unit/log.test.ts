import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import Koa from 'koa';
import { REQUEST_ID_HEADER, requestId } from '../../src/http/request-id.js';
import { CENSORED, createLogger, type Logger } from '../../src/log.js';

function collecting(level: Parameters<typeof createLogger>[0] = 'debug'): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger(level, (line) => lines.push(line)), lines };
}

const parsed = (lines: string[]) => lines.map((line) => JSON.parse(line) as Record<string, unknown>);

describe('the log', () => {
  it('writes each event as one JSON object on one line, with time, level, message and the fields', () => {
    const { log, lines } = collecting();
    log.debug('checking');
    log.info('e-mail sent', { to: 'ada@city.test', attempt: 2 });
    log.warn('a replayed passcode was refused', { userId: 'u1', ip: '203.0.113.7' });
    log.error('request failed', { error: 'Error: boom\n    at handler (app.ts:1:1)' });
    expect(lines).toHaveLength(4);
    for (const line of lines) expect(line).not.toContain('\n');
    expect(parsed(lines)).toStrictEqual([
      { time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), level: 'debug', message: 'checking' },
      { time: expect.any(String), level: 'info', message: 'e-mail sent', to: 'ada@city.test', attempt: 2 },
      { time: expect.any(String), level: 'warn', message: 'a replayed passcode was refused', userId: 'u1', ip: '203.0.113.7' },
      { time: expect.any(String), level: 'error', message: 'request failed', error: 'Error: boom\n    at handler (app.ts:1:1)' },
    ]);
  });

  const levels: Array<[Parameters<typeof createLogger>[0], string[]]> = [
    ['debug', ['debug', 'info', 'warn', 'error']],
    ['info', ['info', 'warn', 'error']],
    ['warn', ['warn', 'error']],
    ['error', ['error']],
    ['silent', []],
  ];
  for (const [level, written] of levels) {
    it(`at LOG_LEVEL=${level} writes ${written.join(', ') || 'nothing'}`, () => {
      const { log, lines } = collecting(level);
      log.debug('d');
      log.info('i');
      log.warn('w');
      log.error('e');
      expect(parsed(lines).map((line) => line.level)).toStrictEqual(written);
    });
  }

  const X = CENSORED;
  /** What a careless caller passes, and what the line must hold instead. */
  const secrets: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
    ['password', { password: 'hunter2-hunter2' }, { password: X }],
    ['passcode', { passcode: '492039' }, { passcode: X }],
    ['code', { code: 'SplxlOBeZQQYbYS6WxSbIA' }, { code: X }],
    ['secret', { secret: 'JBSWY3DPEHPK3PXP' }, { secret: X }],
    ['clientSecret', { clientSecret: 'cs-5f2b9c0e' }, { clientSecret: X }],
    ['client_secret', { client_secret: 'cs-77aa01' }, { client_secret: X }],
    ['token', { token: 'tok-1b2c3d' }, { token: X }],
    ['accessToken', { accessToken: 'at-9e8d7c' }, { accessToken: X }],
    ['refresh_token', { refresh_token: 'rt-4f5e6d' }, { refresh_token: X }],
    ['authorization', { authorization: 'Basic YWRhOnBhc3N3b3Jk' }, { authorization: X }],
    ['recoveryCodes', { recoveryCodes: ['abcd-efgh', 'ijkl-mnop'] }, { recoveryCodes: X }],
    ['user.password', { user: { email: 'ada@city.test', password: 'nested-password' } }, { user: { email: 'ada@city.test', password: X } }],
    ['req.headers.authorization and cookie', { req: { headers: { authorization: 'Bearer eyJhbGciOi', cookie: '_session=s3ss10n', accept: 'text/html' } } },
      { req: { headers: { authorization: X, cookie: X, accept: 'text/html' } } }],
    ['headers["set-cookie"]', { headers: { 'set-cookie': ['_session=s3ss10n'] } }, { headers: { 'set-cookie': X } }],
    ['clients[0].clientSecret', { clients: [{ id: 'portal', clientSecret: 'in-an-array' }] }, { clients: [{ id: 'portal', clientSecret: X }] }],
    ['a.b.c.token', { a: { b: { c: { token: 'three-levels-down' } } } }, { a: { b: { c: { token: X } } } }],
  ];
  for (const [path, fields, expected] of secrets) {
    it(`censors ${path}, whatever the caller meant`, () => {
      const { log, lines } = collecting();
      log.info('careless', { ...fields, userId: 'u1' });
      expect(parsed(lines)).toStrictEqual([{ time: expect.any(String), level: 'info', message: 'careless', ...expected, userId: 'u1' }]);
    });
  }

  it('leaves the caller\'s fields as they were', () => {
    const { log } = collecting();
    const fields = { password: 'kept-by-the-caller', nested: { token: 'also-kept' } };
    log.info('careless', fields);
    expect(fields).toStrictEqual({ password: 'kept-by-the-caller', nested: { token: 'also-kept' } });
  });

  it('keeps its own level, time and message whatever the fields are named, and writes a field JSON cannot hold as text', () => {
    const { log, lines } = collecting();
    const cycle: Record<string, unknown> = { name: 'loop' };
    cycle.self = cycle;
    log.warn('odd fields', { level: 'debug', time: 'yesterday', message: 'not this', count: 10n, cycle });
    const [line] = parsed(lines);
    expect(line).toStrictEqual({ level: 'warn', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), message: 'odd fields', count: '10', cycle: { name: 'loop', self: '[Circular]' } });
    expect(lines[0]!.indexOf('"level"')).toBe(1);
  });

  it('writes an object met twice in one line both times, and cuts only what contains itself', () => {
    const { log, lines } = collecting();
    const organization = { slug: 'parks' };
    const cycle: Record<string, unknown> = { name: 'loop' };
    cycle.self = { back: cycle };
    log.warn('shared fields', { from: organization, to: organization, count: 1n, cycle, list: [organization, organization] });
    const [line] = parsed(lines);
    expect(line).toMatchObject({
      from: { slug: 'parks' },
      to: { slug: 'parks' },
      count: '1',
      cycle: { name: 'loop', self: { back: '[Circular]' } },
      list: [{ slug: 'parks' }, { slug: 'parks' }],
    });
  });

  it('writes a plain line for a person when asked, censored all the same', () => {
    const lines: string[] = [];
    const log = createLogger('error', (line) => lines.push(line), { format: 'plain' });
    log.warn('not at this level');
    log.error('e-mail could not be sent; giving up', { to: 'ada@city.test', subject: 'Your sign-in code', passcode: '492039', error: 'connect ECONNREFUSED 127.0.0.1:25' });
    expect(lines).toStrictEqual([
      `ERROR e-mail could not be sent; giving up to=ada@city.test subject="Your sign-in code" passcode=${CENSORED} error="connect ECONNREFUSED 127.0.0.1:25"`,
    ]);
  });
});

describe('the request id', () => {
  /** Two requests that are both inside the app before either finishes, the first finishing last. */
  async function twoOverlappingRequests(log: Logger, headers: [Record<string, string>, Record<string, string>]) {
    let arrived = 0;
    let bothArrived!: () => void;
    const together = new Promise<void>((resolve) => {
      bothArrived = resolve;
    });
    const app = new Koa();
    app.use(requestId());
    app.use(async (ctx) => {
      const name = String(ctx.query.name);
      log.info('started', { name });
      arrived += 1;
      if (arrived === 2) bothArrived();
      await together;
      log.debug('resumed');
      await sleep(name === 'first' ? 30 : 0);
      log.info('finished', { name });
      ctx.body = name;
    });
    const server = http.createServer(app.callback()).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const [first, second] = await Promise.all([
        fetch(`${base}/?name=first`, { headers: headers[0] }),
        fetch(`${base}/?name=second`, { headers: headers[1] }),
      ]);
      return { first: first.headers.get(REQUEST_ID_HEADER)!, second: second.headers.get(REQUEST_ID_HEADER)! };
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }

  it('is on every line written while a request is handled, and two concurrent requests keep theirs apart', async () => {
    const { log, lines } = collecting();
    log.info('before any request');
    const ids = await twoOverlappingRequests(log, [{ [REQUEST_ID_HEADER]: 'lb-7f3a9c21' }, {}]);
    log.info('after the requests');

    expect(ids.first).toBe('lb-7f3a9c21');
    expect(ids.second).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const events = parsed(lines).map(({ message, name, requestId: id }) => ({ message, name, requestId: id }));
    const ofRequest = (id: string) => events.filter((event) => event.requestId === id);
    expect(ofRequest(ids.first)).toStrictEqual([
      { message: 'started', name: 'first', requestId: ids.first },
      { message: 'resumed', name: undefined, requestId: ids.first },
      { message: 'finished', name: 'first', requestId: ids.first },
    ]);
    expect(ofRequest(ids.second)).toStrictEqual([
      { message: 'started', name: 'second', requestId: ids.second },
      { message: 'resumed', name: undefined, requestId: ids.second },
      { message: 'finished', name: 'second', requestId: ids.second },
    ]);
    // They did overlap: both started before either finished, and the first finished last.
    expect(events.map((event) => event.message)).toStrictEqual(['before any request', 'started', 'started', 'resumed', 'resumed', 'finished', 'finished', 'after the requests']);
    expect(events.at(-2)!.name).toBe('first');
    expect([events[0]!.requestId, events.at(-1)!.requestId]).toStrictEqual([undefined, undefined]);
  });

  it('replaces an incoming id that is too long or has characters an id does not need', async () => {
    const { log } = collecting();
    const ids = await twoOverlappingRequests(log, [{ [REQUEST_ID_HEADER]: 'x'.repeat(129) }, { [REQUEST_ID_HEADER]: 'id" level="error' }]);
    expect(ids.first).not.toBe('x'.repeat(129));
    expect(ids.second).not.toContain('"');
    expect([ids.first, ids.second]).toStrictEqual([expect.stringMatching(/^[0-9a-f-]{36}$/), expect.stringMatching(/^[0-9a-f-]{36}$/)]);
  });
});
