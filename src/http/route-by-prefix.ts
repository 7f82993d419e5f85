import compose from 'koa-compose';
import type { Context, Middleware, Next } from 'koa';

/**
 * Sends a request only to the routes mounted under its first path segment. oidc-provider's own
 * endpoints (/auth, /token, /jwks …) — most of the traffic — then skip Twofold's routers entirely.
 */
export function routeByPrefix(routes: Readonly<Record<string, readonly Middleware[]>>): Middleware {
  const table = new Map(Object.entries(routes).map(([prefix, stack]) => [prefix, compose([...stack])]));
  return async function dispatch(ctx: Context, next: Next): Promise<void> {
    const segment = ctx.path.slice(0, ctx.path.indexOf('/', 1) === -1 ? undefined : ctx.path.indexOf('/', 1));
    const handler = table.get(segment);
    return handler ? handler(ctx, next) : next();
  };
}
