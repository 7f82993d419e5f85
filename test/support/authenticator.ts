import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect } from '@jest/globals';
import type { Page } from 'playwright-core';

/*
 * A person's phone, outside Twofold's code: a camera that reads the QR code on the screen (zbarimg
 * on a screenshot) and an authenticator app (oathtool). Both are Debian packages .ci/run installs.
 */
export const PHONE_TOOLS = ['zbarimg', 'oathtool'] as const;

/** What a phone camera does: read the QR code on the screen; returns the `otpauth://` URI. */
export async function scanQrCode(page: Page, folder: string): Promise<URL> {
  const file = path.join(folder, `qr-${Date.now()}.png`);
  await page.getByRole('img', { name: /QR code/ }).screenshot({ path: file });
  const scan = spawnSync('zbarimg', ['--raw', '-q', file], { encoding: 'utf8' });
  expect(scan.status).toBe(0);
  return new URL(scan.stdout.trim());
}

/** The key inside a scanned QR code. */
export const secretOf = (uri: URL) => uri.searchParams.get('secret')!;

/**
 * What an authenticator app shows `ahead` seconds from now. A passcode is accepted one 30-second step
 * either side of now and only once, so a journey that needs several uses -30, 0 and +30 in that order.
 * In the last seconds of a step it waits for the next one, as a person would: the previous step's code
 * must still be accepted when the page, slowed by a loaded machine, reaches the server.
 */
/** How close to the end of a 30-second step a code is not typed any more. */
const LAST_SECONDS_MS = 8_000;

export function authenticatorCode(secret: string, ahead = 0): string {
  const leftInStep = 30_000 - (Date.now() % 30_000);
  if (leftInStep < LAST_SECONDS_MS) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, leftInStep + 200);
  const result = spawnSync('oathtool', ['--totp', '-b', '-N', `now ${ahead < 0 ? '-' : '+'} ${Math.abs(ahead)} seconds`, secret], { encoding: 'utf8' });
  expect(result.status).toBe(0);
  return result.stdout.trim();
}
