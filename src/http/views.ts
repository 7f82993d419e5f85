import path from 'node:path';
import pug from 'pug';
import type { Context } from 'koa';
import { PROJECT_ROOT } from '../project-root.js';
import { csrfToken } from './csrf.js';

const VIEWS = path.join(PROJECT_ROOT, 'views');
const compiled = new Map<string, pug.compileTemplate>();

function template(view: string): pug.compileTemplate {
  let fn = compiled.get(view);
  if (!fn) {
    fn = pug.compileFile(path.join(VIEWS, `${view}.pug`), { basedir: VIEWS });
    compiled.set(view, fn);
  }
  return fn;
}

/** Renders a page. Compiled templates are kept, so a request never pays for compilation twice. */
export function renderHtml(view: string, locals: Record<string, unknown> = {}): string {
  return template(view)(locals);
}

/**
 * Sends a page. Every page Twofold renders is personal or carries a form token, so none is cached.
 */
export function render(ctx: Context, view: string, locals: Record<string, unknown> = {}, status = 200): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = renderHtml(view, { csrfToken: csrfToken(ctx), ...locals });
}
