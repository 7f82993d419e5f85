import type { Context } from 'koa';
import { UserError } from '../errors.js';
import { readBody } from './body.js';
import { verifyCsrf } from './csrf.js';

/** A submitted form's fields, readable with `field(name)`: a missing field reads as ''. */
export class Form {
  constructor(private readonly params: URLSearchParams) {}

  field(name: string): string {
    return this.params.get(name) ?? '';
  }

  /** The field's value, or undefined when the form did not send it at all. */
  optionalField(name: string): string | undefined {
    return this.params.get(name) ?? undefined;
  }
}

/** Reads a posted HTML form (urlencoded, at most 64 KiB) and checks its CSRF token. */
export async function readForm(ctx: Context): Promise<Form> {
  if (!ctx.is('application/x-www-form-urlencoded')) throw new UserError('This page only accepts a submitted web form.', 415);
  const params = new URLSearchParams(await readBody(ctx));
  verifyCsrf(ctx, params.get('_csrf'));
  return new Form(params);
}
