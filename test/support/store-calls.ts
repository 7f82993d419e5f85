import { AsyncLocalStorage } from 'node:async_hooks';
import type http from 'node:http';
import type { Store } from '../../src/store/types.js';

/**
 * Counts the store's calls (each one a round trip to the database: a statement on SQLite, a
 * command on MongoDB) made while a server handles the requests of one labelled step. Work the
 * server does on its own — the worker loop's jobs — happens outside any request and is not
 * counted. Both the store's repositories and the server's request listeners are wrapped in place.
 */
export class StoreCalls {
  readonly #step = new AsyncLocalStorage<string>();
  readonly #calls = new Map<string, Map<string, number>>();
  #current: string | null = null;

  constructor(store: Store, server: http.Server) {
    for (const [repository, methods] of Object.entries(store)) {
      if (typeof methods !== 'object' || methods === null) continue;
      for (const [name, method] of Object.entries(methods as Record<string, unknown>)) {
        if (typeof method !== 'function') continue;
        const step = this.#step;
        const calls = this.#calls;
        (methods as Record<string, unknown>)[name] = function counted(this: unknown, ...args: unknown[]) {
          const label = step.getStore();
          if (label !== undefined) {
            const byMethod = calls.get(label) ?? new Map<string, number>();
            byMethod.set(`${repository}.${name}`, (byMethod.get(`${repository}.${name}`) ?? 0) + 1);
            calls.set(label, byMethod);
          }
          return (method as (...a: unknown[]) => unknown).apply(this, args);
        };
      }
    }
    const listeners = server.listeners('request') as Array<(request: http.IncomingMessage, response: http.ServerResponse) => void>;
    server.removeAllListeners('request');
    for (const listener of listeners) {
      server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
        const label = this.#current;
        if (label === null) listener(request, response);
        else this.#step.run(label, () => listener(request, response));
      });
    }
  }

  /** Runs `work` (requests to the server one after another, or calls of the application layer) as the step `label`. */
  async during<T>(label: string, work: () => Promise<T>): Promise<T> {
    this.#current = label;
    try {
      return await this.#step.run(label, work);
    } finally {
      this.#current = null;
    }
  }

  /** The calls of a step, by `repository.method`, sorted by name. */
  of(label: string): Record<string, number> {
    return Object.fromEntries([...(this.#calls.get(label) ?? new Map<string, number>())].sort(([a], [b]) => a.localeCompare(b)));
  }

  /** How many calls a step made in all. */
  total(label: string): number {
    return Object.values(this.of(label)).reduce((sum, count) => sum + count, 0);
  }
}
