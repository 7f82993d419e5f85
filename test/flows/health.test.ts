import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../config/index.js';
import { createApp } from '../../src/app.js';
import { compose } from '../../src/compose.js';
import { createLogger } from '../../src/log.js';
import { startTestInstance, tempDir } from '../support/twofold.js';

async function get(url: string, init: RequestInit = {}) {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : text };
}

/** Sends the start of a request and leaves it in flight; `finish` sends the rest and reads the whole answer. */
async function requestInFlight(port: number, head: string, rest: string) {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  let received = '';
  socket.on('data', (chunk) => {
    received += chunk.toString();
  });
  const ended = new Promise<string>((resolve) => {
    socket.once('close', () => resolve(received));
    socket.once('error', () => resolve(`${received}[socket error]`));
  });
  socket.write(head);
  return {
    finish() {
      socket.write(rest);
      return ended;
    },
  };
}

describe('health and readiness', () => {
  it('answers /healthz and, with the store answering and the keys loaded, /readyz', async () => {
    const twofold = await startTestInstance();
    try {
      const health = await get(`${twofold.url}/healthz`);
      expect([health.status, health.json, health.headers.get('cache-control'), health.headers.get('x-content-type-options')]).toStrictEqual([200, { status: 'ok' }, 'no-store', 'nosniff']);
      const ready = await get(`${twofold.url}/readyz`);
      expect([ready.status, ready.json]).toStrictEqual([200, { status: 'ready' }]);
      const posted = await get(`${twofold.url}/readyz`, { method: 'POST' });
      expect([posted.status, posted.headers.get('allow')]).toStrictEqual([405, 'GET, HEAD']);
    } finally {
      await twofold.close();
    }
  });

  it('is not ready once the store is closed, and says why; it is still alive', async () => {
    const twofold = await startTestInstance();
    try {
      await twofold.store.close();
      const ready = await get(`${twofold.url}/readyz`);
      expect([ready.status, ready.json]).toStrictEqual([503, { status: 'unavailable', reason: 'the store is not reachable' }]);
      // The cause is in the operator's log, not in the answer.
      const line = twofold.logLines.find((candidate) => candidate.includes('readiness: the store does not answer'));
      expect(JSON.parse(line!)).toMatchObject({ level: 'warn', store: 'sqlite', error: expect.stringMatching(/not open/) });
      expect((await get(`${twofold.url}/healthz`)).status).toBe(200);
    } finally {
      await twofold.close();
    }
  });

  it('is not ready while the server is shutting down', async () => {
    const composition = await compose(loadConfig({ DATA_DIR: tempDir(), TWOFOLD_DEMO: '0' }), createLogger('silent'));
    let stopping = false;
    const app = await createApp(composition, { stopping: () => stopping });
    const server = http.createServer(app.callback).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect((await get(`${url}/readyz`)).status).toBe(200);
      stopping = true;
      const ready = await get(`${url}/readyz`);
      expect([ready.status, ready.json]).toStrictEqual([503, { status: 'unavailable', reason: 'shutting down' }]);
    } finally {
      server.close();
      await composition.close();
    }
  });

  it('lets a request in flight on a keep-alive connection finish when it stops, then closes that connection', async () => {
    const twofold = await startTestInstance();
    const port = Number(new URL(twofold.url).port);
    // The token endpoint reads the whole body before it answers: the request stays in flight until the body is sent.
    const body = 'grant_type=authorization_code&code=unknown&client_id=unknown&redirect_uri=https%3A%2F%2Frp.example.test%2Fcallback';
    const inFlight = await requestInFlight(
      port,
      `POST /token HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: keep-alive\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n`,
      body,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closing = twofold.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The port no longer accepts connections…
    await expect(fetch(`${twofold.url}/healthz`)).rejects.toThrow();
    // …but the request it had accepted gets its whole answer, and then the connection is closed.
    const answer = await inFlight.finish();
    expect(answer).toMatch(/^HTTP\/1\.1 (\d{3})/);
    expect(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)![1])).toBeLessThan(500);
    expect(answer).toMatch(/\r\nConnection: close\r\n/i);
    expect(answer).not.toContain('[socket error]');
    await closing;
  });
});
