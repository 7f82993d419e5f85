import fs from 'node:fs';
import path from 'node:path';
import type { Context, Next } from 'koa';
import { PROJECT_ROOT } from '../project-root.js';

const PUBLIC = path.join(PROJECT_ROOT, 'public');
/** @simplewebauthn/browser's browser build, served as it is installed (a global `SimpleWebAuthnBrowser`), so it runs under the CSP's script-src 'self'. */
const WEBAUTHN_BROWSER = path.join(PROJECT_ROOT, 'node_modules', '@simplewebauthn', 'browser', 'dist', 'bundle', 'index.umd.min.js');
const TYPES: Record<string, string> = { '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.js': 'text/javascript; charset=utf-8' };

/** Serves the few files in public/ (and the WebAuthn browser library) under /static/, read once at start-up. */
export function staticFiles() {
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const name of fs.readdirSync(PUBLIC)) {
    const type = TYPES[path.extname(name)];
    if (type) files.set(`/static/${name}`, { type, body: fs.readFileSync(path.join(PUBLIC, name)) });
  }
  files.set('/static/simplewebauthn-browser.js', { type: TYPES['.js']!, body: fs.readFileSync(WEBAUTHN_BROWSER) });
  return async function serveStatic(ctx: Context, next: Next): Promise<void> {
    const file = ctx.method === 'GET' || ctx.method === 'HEAD' ? files.get(ctx.path) : undefined;
    if (!file) return next();
    ctx.type = file.type;
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = file.body;
  };
}
