import type { Context } from 'koa';
import { UserError } from '../errors.js';
import { readBody } from './body.js';

/** A JSON object body (at most 64 KiB); anything else is a 4xx with a sentence. */
export async function readJsonObject(ctx: Context): Promise<Record<string, unknown>> {
  if (!ctx.is('application/json')) throw new UserError('Send the body as application/json.', 415);
  const text = await readBody(ctx);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UserError('The body is not valid JSON.', 400);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UserError('The body must be a JSON object.', 400);
  return value as Record<string, unknown>;
}
