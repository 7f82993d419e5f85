import type { Middleware } from 'koa';
import type { Logger } from '../log.js';
import type { Store } from '../store/types.js';

/** A condition for readiness: null when it holds, otherwise the reason, as a load balancer's log should show it. */
export type ReadinessCheck = () => Promise<string | null> | string | null;

/**
 * GET /healthz: the process is up and answering (a liveness probe; nothing else is asked). GET
 * /readyz: it can serve sign-ins — every check holds — or 503 with the first reason that does not,
 * so a load balancer sends traffic elsewhere (also while the process is shutting down).
 */
export function healthEndpoints(checks: readonly ReadinessCheck[]): Middleware {
  return async (ctx, next) => {
    if (ctx.path !== '/healthz' && ctx.path !== '/readyz') return next();
    ctx.set('Cache-Control', 'no-store');
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.status = 405;
      ctx.set('Allow', 'GET, HEAD');
      return;
    }
    if (ctx.path === '/healthz') {
      ctx.body = { status: 'ok' };
      return;
    }
    for (const check of checks) {
      const reason = await check();
      if (reason !== null) {
        ctx.status = 503;
        ctx.body = { status: 'unavailable', reason };
        return;
      }
    }
    ctx.body = { status: 'ready' };
  };
}

/** How long readiness waits for the store before it calls it unreachable (a MongoDB that is gone would keep it 5 s). */
const STORE_PING_TIMEOUT_MS = 2000;

/** Readiness: the store answers a ping in time. The cause goes to the operator's log, not to the prober. */
export function storeAnswers(store: Pick<Store, 'kind' | 'ping'>, log: Logger): ReadinessCheck {
  return async () => {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        store.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${STORE_PING_TIMEOUT_MS} ms`)), STORE_PING_TIMEOUT_MS);
        }),
      ]);
      return null;
    } catch (error) {
      log.warn('readiness: the store does not answer', { store: store.kind, error: (error as Error).message });
      return 'the store is not reachable';
    } finally {
      clearTimeout(timer);
    }
  };
}
