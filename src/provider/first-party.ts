/**
 * First-party clients — Twofold's own apps, the demo, and relying parties registered with
 * `--first-party` — are trusted by the organizations: they get their grant without a consent page.
 * Decided here only; both where grants are loaded and where the consent step would show use it.
 */
export function skipsConsent(client: { metadata(): Record<string, unknown> } | undefined): boolean {
  return client?.metadata().first_party === true;
}
