import fs from 'node:fs';
import path from 'node:path';
import type { Context, Next } from 'koa';
import { PROJECT_ROOT } from '../project-root.js';

const PUBLIC = path.join(PROJECT_ROOT, 'public');
const TYPES: Record<string, string> = { '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.js': 'text/javascript; charset=utf-8' };

/** Serves the few files in public/ under /static/, read once at start-up. */
export function staticFiles() {
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const name of fs.readdirSync(PUBLIC)) {
    const type = TYPES[path.extname(name)];
    if (type) files.set(`/static/${name}`, { type, body: fs.readFileSync(path.join(PUBLIC, name)) });
  }
  return async function serveStatic(ctx: Context, next: Next): Promise<void> {
    const file = ctx.method === 'GET' || ctx.method === 'HEAD' ? files.get(ctx.path) : undefined;
    if (!file) return next();
    ctx.type = file.type;
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = file.body;
  };
}
