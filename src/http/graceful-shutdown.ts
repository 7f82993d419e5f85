import type http from 'node:http';

export interface GracefulServer {
  /** True from the moment a shutdown begins: readiness fails, and every response closes its connection. */
  readonly stopping: boolean;
  /**
   * Stops accepting connections and lets the requests in flight finish, for up to `graceMs`; then
   * cuts what is left. Resolves with how many requests were cut (0 when all finished).
   */
  shutdown(graceMs: number): Promise<number>;
}

/**
 * Tracks a server's requests so that it can stop without cutting one it accepted. Keep-alive
 * connections are the catch: an idle one is closed at once (Node does that as the server closes);
 * one with a request in flight gets `Connection: close` on its response (when its headers have not
 * gone out yet) and is closed as soon as that response ends, so no next request is read from it.
 */
export function gracefulServer(server: http.Server): GracefulServer {
  const inFlight = new Set<http.ServerResponse>();
  let stopping = false;
  const closeAfterwards = (response: http.ServerResponse) => {
    if (!response.headersSent) response.setHeader('Connection', 'close');
  };
  server.on('request', (_request: http.IncomingMessage, response: http.ServerResponse) => {
    inFlight.add(response);
    if (stopping) closeAfterwards(response);
    response.once('close', () => {
      inFlight.delete(response);
      // A response whose headers promised keep-alive leaves its connection idle: close it now.
      if (stopping) setImmediate(() => server.closeIdleConnections());
    });
  });
  return {
    get stopping() {
      return stopping;
    },
    async shutdown(graceMs) {
      stopping = true;
      for (const response of inFlight) closeAfterwards(response);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      const late = await Promise.race([
        closed.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), graceMs);
        }),
      ]);
      clearTimeout(timer);
      if (!late) return 0;
      const cut = inFlight.size;
      server.closeAllConnections();
      await closed;
      return cut;
    },
  };
}
