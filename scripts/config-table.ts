import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { OPTIONS, describeDefault, type Option } from '../config/index.js';

/**
 * `npm run docs:config`: rewrites the configuration table in README.md, between the two markers, from the
 * settings table in config/index.ts — so a default or description is written once, and the test in
 * test/unit/config.test.ts fails when the README was not regenerated.
 */

export const README = fileURLToPath(new URL('../README.md', import.meta.url));
export const START_MARKER = '<!-- config-table: generated from config/index.ts by `npm run docs:config`; edit there -->';
export const END_MARKER = '<!-- /config-table -->';

const cell = (text: string) => text.replace(/\|/g, '\\|');

export function renderConfigTable(options: readonly Option[] = OPTIONS): string {
  return [
    '| variable | default | what it does |',
    '| --- | --- | --- |',
    ...options.map((option) => {
      const allowed = option.parse.allowed ? ` Allowed: ${option.parse.allowed}.` : '';
      return `| \`${option.name}\` | ${cell(describeDefault(option))} | ${cell(option.description + allowed)} |`;
    }),
  ].join('\n');
}

function markerPositions(readme: string): { from: number; to: number } {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (start === -1 || end < start) throw new Error(`README.md must contain ${START_MARKER} and, after it, ${END_MARKER}.`);
  return { from: start + START_MARKER.length, to: end };
}

/** The table as it stands in the README, without the blank lines around it. */
export function tableInReadme(readme: string): string {
  const { from, to } = markerPositions(readme);
  return readme.slice(from, to).trim();
}

export function withConfigTable(readme: string, table = renderConfigTable()): string {
  const { from, to } = markerPositions(readme);
  return `${readme.slice(0, from)}\n\n${table}\n\n${readme.slice(to)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const readme = fs.readFileSync(README, 'utf8');
  const updated = withConfigTable(readme);
  if (updated === readme) console.log('README.md: the configuration table is up to date.');
  else {
    fs.writeFileSync(README, updated);
    console.log(`README.md: configuration table rewritten (${OPTIONS.length} settings).`);
  }
}
