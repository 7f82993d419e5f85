import type { Context } from 'koa';
import { UserError } from '../errors.js';
import { verifyCsrf } from './csrf.js';

const LIMIT_BYTES = 64 * 1024;

export async function readBody(ctx: Context): Promise<string> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > LIMIT_BYTES) throw new UserError('The form is too large.', 413);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > LIMIT_BYTES) throw new UserError('The form is too large.', 413);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A submitted form's fields, readable with `field(name)`: a missing field reads as ''. */
export class Form {
  constructor(private readonly params: URLSearchParams) {}

  field(name: string): string {
    return this.params.get(name) ?? '';
  }
}

/** Reads a posted HTML form (urlencoded, at most 64 KiB) and checks its CSRF token. */
export async function readForm(ctx: Context): Promise<Form> {
  if (!ctx.is('application/x-www-form-urlencoded')) throw new UserError('This page only accepts a submitted web form.', 415);
  const params = new URLSearchParams(await readBody(ctx));
  verifyCsrf(ctx, params.get('_csrf'));
  return new Form(params);
}
