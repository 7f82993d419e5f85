import type { Context, Next } from 'koa';
import { UserError } from '../errors.js';

/** The largest body any endpoint reads: Twofold's forms and JSON, and oidc-provider's own (56 KiB) fit. */
const LIMIT_BYTES = 64 * 1024;

const TOO_LARGE = 'What was sent is too large (at most 64 KiB). Go back and send less.';

const declaresTooLarge = (ctx: Context) => Number(ctx.get('content-length') || 0) > LIMIT_BYTES;

function tooLarge(ctx: Context): UserError {
  ctx.set('Connection', 'close');
  return new UserError(TOO_LARGE, 413);
}

/**
 * Refuses a body declared larger than any endpoint reads, before anything reads it: in front of
 * oidc-provider's endpoints, which would otherwise answer 400. (A chunked body there that grows too
 * large is still refused by oidc-provider's own reader, with 400.)
 */
export function refuseOversizedBodies() {
  return async function checkDeclaredLength(ctx: Context, next: Next): Promise<void> {
    if (declaresTooLarge(ctx)) throw tooLarge(ctx);
    await next();
  };
}

/**
 * Reads a request body of at most 64 KiB. A larger one — declared, or found while reading a chunked
 * one — is answered 413 on a connection that closes afterwards: reading stops, and the socket stays
 * open until the answer is written (leaving a `for await` loop early would destroy it first).
 */
export function readBody(ctx: Context): Promise<string> {
  if (declaresTooLarge(ctx)) return Promise.reject(tooLarge(ctx));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= LIMIT_BYTES) {
        chunks.push(chunk);
        return;
      }
      cleanup();
      ctx.req.pause();
      reject(tooLarge(ctx));
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const cleanup = () => {
      ctx.req.off('data', onData);
      ctx.req.off('end', onEnd);
      ctx.req.off('error', onError);
    };
    ctx.req.on('data', onData);
    ctx.req.on('end', onEnd);
    ctx.req.on('error', onError);
  });
}

