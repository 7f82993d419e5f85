import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LoadBalancer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A round-robin HTTP proxy on a loopback port: each request goes to the next of `ports`, so one
 * person's steps alternate between the processes behind it, as they may behind a real load balancer.
 */
export async function roundRobin(ports: readonly number[]): Promise<LoadBalancer> {
  let next = 0;
  const server = http.createServer((request, response) => {
    const port = ports[next % ports.length]!;
    next += 1;
    const upstream = http.request({ host: '127.0.0.1', port, method: request.method, path: request.url, headers: request.headers }, (answer) => {
      response.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', (error) => {
      response.writeHead(502, { 'content-type': 'text/plain' });
      response.end(`load balancer: ${error.message}`);
    });
    request.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
