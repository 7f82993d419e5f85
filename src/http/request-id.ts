import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import { withLogContext } from '../log.js';

export const REQUEST_ID_HEADER = 'X-Request-Id';

/**
 * A proxy's id is kept so that its log and ours can be matched; anything longer or with other characters
 * (which could forge log fields or split a header) is replaced by our own.
 */
const WELL_FORMED = /^[\w.:+/=-]{1,128}$/;

/**
 * Gives each request an id — the incoming `X-Request-Id` when well formed, a random UUID otherwise — sends it
 * back in the response, and adds it as `requestId` to every log line written while the request is handled.
 */
export function requestId(): Middleware {
  return async (ctx, next) => {
    const incoming = ctx.get(REQUEST_ID_HEADER);
    const id = WELL_FORMED.test(incoming) ? incoming : randomUUID();
    ctx.set(REQUEST_ID_HEADER, id);
    await withLogContext({ requestId: id }, next);
  };
}
