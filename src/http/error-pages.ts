import type { Context, Next } from 'koa';
import { UserError } from '../errors.js';
import type { Logger } from '../log.js';
import { render } from './views.js';

/**
 * Turns errors thrown by Twofold's own routes into a page with a plain sentence. A UserError's
 * message is meant for the user; anything else is logged for the operator and shown as a generic
 * sentence — never a stack trace.
 */
export function errorPages(log: Logger) {
  return async function renderErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      // Nothing answered (no route of Twofold's, none of oidc-provider's): a page that says so, not Koa's bare text.
      if (ctx.status === 404 && ctx.body == null) render(ctx, 'error', { title: 'Page not found', message: 'There is no page at this address. Check the link, or start from your account page.' }, 404);
    } catch (error) {
      if (error instanceof UserError) {
        render(ctx, 'error', { title: 'Something is not right', message: error.message, next: error.wayOn }, error.status);
        return;
      }
      const status = (error as { status?: number; expose?: boolean }).status;
      if (typeof status === 'number' && status >= 400 && status < 500) {
        render(ctx, 'error', { title: 'Something is not right', message: 'The request could not be understood.' }, status);
        return;
      }
      log.error('request failed', { method: ctx.method, path: ctx.path, error: (error as Error).stack ?? String(error) });
      render(ctx, 'error', { title: 'Something went wrong', message: 'Something went wrong on our side. Please try again in a moment.' }, 500);
    }
  };
}
