import type { Config } from '../../config/index.js';
import type { Directory } from '../directory/directory.js';
import type { Store } from '../store/types.js';

/** Published on purpose: the demo exists to be tried. TWOFOLD_DEMO cannot be on in production. */
export const DEMO = Object.freeze({
  organization: { slug: 'demo', name: 'Demo City' },
  owner: { email: 'owner@demo.test', password: 'demo-owner-password', name: 'Olivia Owner' },
  member: { email: 'member@demo.test', password: 'demo-member-password', name: 'Max Member' },
  clientId: 'demo-rp',
});

export const demoRedirectUri = (issuer: string) => `${issuer}/demo/callback`;
export const demoHomeUri = (issuer: string) => `${issuer}/demo`;

/**
 * Fills an empty store with a demo organization, its owner and a member, and the first-party demo
 * relying party served at /demo. Returns false (and changes nothing) when the store has users.
 */
export async function seedDemo(store: Store, directory: Directory, config: Config): Promise<boolean> {
  if ((await store.users.count()) > 0) return false;
  await directory.createOrganization(DEMO.organization.slug, DEMO.organization.name);
  await directory.createUser({ ...DEMO.owner, orgs: [{ slug: DEMO.organization.slug, role: 'owner' }] });
  await directory.createUser({ ...DEMO.member, orgs: [{ slug: DEMO.organization.slug, role: 'member' }] });
  if (!(await store.clients.find(DEMO.clientId))) {
    await directory.createClient({
      clientId: DEMO.clientId,
      name: 'Twofold demo application',
      redirectUris: [demoRedirectUri(config.issuer)],
      postLogoutRedirectUris: [demoHomeUri(config.issuer)],
      firstParty: true,
    });
  }
  return true;
}

export function demoInstructions(issuer: string): string {
  return [
    'Demo mode (TWOFOLD_DEMO=1): try a sign-in in your browser:',
    `  open ${demoHomeUri(issuer)} and click "Sign in"`,
    `  organization owner: ${DEMO.owner.email} / ${DEMO.owner.password}`,
    `  member:             ${DEMO.member.email} / ${DEMO.member.password}`,
  ].join('\n');
}
