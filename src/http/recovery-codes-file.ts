import type { Context } from 'koa';
import type { Config } from '../../config/index.js';
import type { User } from '../application/types.js';

/** Recovery codes as a .txt download: no-store, an attachment, never cached or indexed. */
export function sendRecoveryCodesFile(ctx: Context, config: Config, user: User, codes: readonly string[]): void {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Content-Disposition', 'attachment; filename="recovery-codes.txt"');
  ctx.type = 'text/plain; charset=utf-8';
  ctx.body = [
    `${config.siteName} recovery codes for ${user.email}`,
    `Made ${new Date().toISOString().slice(0, 10)}. Each code works once. Keep them somewhere safe.`,
    '',
    ...codes,
    '',
  ].join('\n');
}
