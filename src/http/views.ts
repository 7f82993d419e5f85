import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'koa';
import { PROJECT_ROOT } from '../project-root.js';
import { csrfToken } from './csrf.js';

const require = createRequire(import.meta.url);
const VIEWS = path.join(PROJECT_ROOT, 'views');
/** Where `npm run build` writes every template compiled to JavaScript (scripts/compile-views.ts). */
export const COMPILED_VIEWS = path.join(PROJECT_ROOT, 'dist', 'views');
/** Running the compiled build (`npm start`), not the TypeScript sources. */
const FROM_BUILD = fileURLToPath(import.meta.url).startsWith(path.join(PROJECT_ROOT, 'dist') + path.sep);

type Template = (locals: Record<string, unknown>) => string;
const templates = new Map<string, Template>();

/**
 * A template's JavaScript: a function `template(locals)` with pug's runtime inlined. The build writes
 * it to a file; the sources evaluate it at first use. Either way the same code renders the page, and
 * the compiled build never loads pug's compiler (about 20 MB of memory).
 */
export function templateSource(view: string): string {
  const pug = require('pug') as typeof import('pug');
  return pug.compileFileClient(path.join(VIEWS, `${view}.pug`), { basedir: VIEWS, name: 'template', compileDebug: false });
}

/** A template file as the build writes it: the template's JavaScript as a CommonJS module, which loads without waiting. */
export function templateModule(view: string): string {
  return `${templateSource(view)}\nmodule.exports = template;\n`;
}

function template(view: string): Template {
  let fn = templates.get(view);
  if (!fn) {
    fn = FROM_BUILD
      ? (require(path.join(COMPILED_VIEWS, `${view}.cjs`)) as Template)
      : (new Function(`${templateSource(view)}\nreturn template;`)() as Template);
    templates.set(view, fn);
  }
  return fn;
}

/** Renders a page. A template is compiled once, so a request never pays for compilation. */
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
