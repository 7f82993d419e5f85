import Router from '@koa/router';
import type { FederationService } from './federation-service.js';

/** Where organizations' identity providers send the browser back: /federation/<slug>/callback. */
export function federationRouter({ federation }: { federation: FederationService }): Router {
  const router = new Router({ prefix: '/federation' });
  router.get('/:slug/callback', async (ctx) => {
    const next = await federation.callback(ctx, String(ctx.params.slug));
    ctx.redirect(next);
  });
  return router;
}
