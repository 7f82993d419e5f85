import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (.ci/run installs it); CHROMIUM_PATH points elsewhere. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const DEBIAN_PACKAGES: Record<string, string> = { zbarimg: 'zbar-tools', oathtool: 'oathtool' };

/**
 * What a browser suite needs and this machine lacks — Chromium and the given command-line tools —
 * as the reason to skip it, or false when everything is there.
 */
export function missingForBrowserTests(tools: readonly string[] = []): string | false {
  const which = (tool: string) => spawnSync('which', [tool]).status === 0;
  const missing = [
    ...(fs.existsSync(CHROMIUM) ? [] : [`Chromium (${CHROMIUM})`]),
    ...tools.filter((tool) => !which(tool)).map((tool) => `${tool} (Debian package ${DEBIAN_PACKAGES[tool] ?? tool})`),
  ];
  const packages = ['chromium', ...tools.map((tool) => DEBIAN_PACKAGES[tool] ?? tool)].join(' ');
  return missing.length ? `not installed: ${missing.join(', ')}; run: apt-get install -y ${packages}` : false;
}

/** Headless Chromium with the flags this closed network needs (no background connections). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
