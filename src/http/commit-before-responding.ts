import type { Middleware } from 'koa';
import type { Store } from '../store/types.js';

/**
 * The outermost middleware: once a request is handled, and before Koa writes its response, the
 * store's writes are committed (docs/security-model.md, "The embedded store"), so that what a
 * response tells of — a code issued, a member removed — is already in the database.
 */
export function commitBeforeResponding(store: Pick<Store, 'flush'>): Middleware {
  return async (_ctx, next) => {
    try {
      await next();
    } finally {
      store.flush();
    }
  };
}
