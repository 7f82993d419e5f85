import crypto from 'node:crypto';
import type { Middleware } from 'koa';
import { inLogContext, type Logger } from '../log.js';
import type { TwofoldMetrics } from './metrics.js';
import { routeGroup } from './route-groups.js';

/**
 * A path segment this long is taken for a secret in the URL — an invitation link's token, an
 * interaction's uid (also the value of its cookie) — whatever route it is on; a user's id (36
 * characters) stays. What replaces it is a short digest of it: the requests of one sign-in still
 * read as one in the log, and nothing in the log opens anything.
 */
const TOKEN_SEGMENT = /\/([A-Za-z0-9_-]{40,})(?=\/|$)/g;

/** Probes and scrapes come every few seconds: kept out of the log at `info`. */
const QUIET_ROUTES = new Set(['healthz', 'readyz', 'metrics']);

/** The path as the log keeps it: without its query (codes, states, tokens) and without token segments. */
export function loggedPath(path: string): string {
  return path.replace(TOKEN_SEGMENT, (_, token: string) => `/[redacted:${crypto.createHash('sha256').update(token).digest('hex').slice(0, 10)}]`);
}

/**
 * One log line and one observation per request, when its response ends (also when oidc-provider
 * wrote it itself, or the client went away): method, path, route group, status, duration and the
 * client's address. The line carries the request id like every other line of the request. A client
 * that left before any response is counted with status 499, as nginx does.
 */
export function observeRequests({ log, metrics }: { log: Logger; metrics: TwofoldMetrics }): Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    const route = routeGroup(ctx.path);
    ctx.res.once('close', inLogContext(() => {
      const seconds = (performance.now() - started) / 1000;
      const aborted = !ctx.res.writableFinished;
      const status = aborted && !ctx.res.headersSent ? 499 : ctx.res.statusCode;
      metrics.request(route, status, seconds);
      const fields = {
        method: ctx.method,
        path: loggedPath(ctx.path),
        route,
        status,
        ms: Math.round(seconds * 10_000) / 10,
        ip: ctx.ip,
        ...(aborted ? { aborted: true } : {}),
      };
      if (QUIET_ROUTES.has(route)) log.debug('request', fields);
      else log.info('request', fields);
    }));
    await next();
  };
}
