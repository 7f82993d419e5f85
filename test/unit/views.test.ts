import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { compileViews, viewNames } from '../../scripts/compile-views.js';
import { renderHtml } from '../../src/http/views.js';

const require = createRequire(import.meta.url);

describe('templates compiled by the build', () => {
  it('writes every template as a module that renders what the sources render', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'twofold-views-'));
    expect(compileViews(out)).toBe(viewNames().length);
    expect(viewNames()).toEqual(expect.arrayContaining(['challenge', 'login', 'error', 'mail/layout', 'admin/members']));
    for (const view of viewNames()) expect(typeof require(path.join(out, `${view}.cjs`))).toBe('function');
    const pages: Array<[string, Record<string, unknown>]> = [
      ['error', { title: 'Sign-in could not continue', message: 'The <application> & its "request" were refused.' }],
      ['logged-out', { clientName: 'Payroll' }],
    ];
    for (const [view, locals] of pages) {
      const built = (require(path.join(out, `${view}.cjs`)) as (locals: Record<string, unknown>) => string)(locals);
      expect(built).toBe(renderHtml(view, locals));
      expect(built).toContain(view === 'error' ? 'The &lt;application&gt; &amp; its &quot;request&quot; were refused.' : 'Payroll');
    }
  });
});
