import type { Context, Next } from 'koa';

const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "style-src 'self'",
  "img-src 'self' data:",
  "script-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Strict headers on every response. The Content-Security-Policy is set before the response is made:
 * oidc-provider's self-submitting pages (response_mode=form_post, and the sign-out step when a
 * sign-in switches accounts) add the hash of exactly their one inline script to it, so that script —
 * and no other — runs. No form-action directive: browsers apply it to the redirect that follows a
 * form post, which would block the return to the relying party.
 */
export function securityHeaders({ hsts }: { hsts: boolean }) {
  return async function setSecurityHeaders(ctx: Context, next: Next): Promise<void> {
    ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    try {
      await next();
    } finally {
      ctx.set('X-Content-Type-Options', 'nosniff');
      ctx.set('X-Frame-Options', 'DENY');
      ctx.set('Referrer-Policy', 'no-referrer');
      ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
      ctx.set('Cross-Origin-Resource-Policy', 'same-origin');
      ctx.set('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()');
      if (!ctx.response.get('Content-Security-Policy')) ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
      if (hsts) ctx.set('Strict-Transport-Security', 'max-age=63072000; includeSubDomains');
    }
  };
}
