import Router from '@koa/router';
import type { PasswordLinks } from '../application/password-links.js';
import { addPasswordLinkPages } from '../password/link-pages.js';

/** /invitation/<token>: a person added by an owner sets their first password (single-use link). */
export function invitationRouter({ passwordLinks }: { passwordLinks: PasswordLinks }): Router {
  const router = new Router({ prefix: '/invitation' });
  addPasswordLinkPages(router, '', passwordLinks, 'invitation');
  return router;
}
