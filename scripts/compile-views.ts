import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROJECT_ROOT } from '../src/project-root.js';
import { COMPILED_VIEWS, templateModule } from '../src/http/views.js';

/**
 * The second half of `npm run build`: every template in views/ (layouts and mixins too, which compile
 * to pages nobody asks for) compiled to JavaScript in dist/views/, where the compiled build reads them.
 */
export function viewNames(root = path.join(PROJECT_ROOT, 'views')): string[] {
  return fs.readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.pug'))
    .map((file) => file.slice(0, -'.pug'.length).split(path.sep).join('/'))
    .sort();
}

export function compileViews(outDir = COMPILED_VIEWS): number {
  const views = viewNames();
  for (const view of views) {
    const file = path.join(outDir, `${view}.cjs`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, templateModule(view));
  }
  return views.length;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(`dist/views: ${compileViews()} templates compiled.`);
}
