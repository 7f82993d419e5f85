import type { Config } from '../../config/index.js';
import type { Application } from '../application/index.js';
import { OPERATOR } from '../application/actor.js';

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
export async function seedDemo({ users, organizations, clients }: Pick<Application, 'users' | 'organizations' | 'clients'>, config: Config): Promise<boolean> {
  if (!(await users.isEmpty())) return false;
  await organizations.create(OPERATOR, DEMO.organization.slug, DEMO.organization.name);
  await users.create(OPERATOR, { ...DEMO.owner, orgs: [{ slug: DEMO.organization.slug, role: 'owner' }] });
  await users.create(OPERATOR, { ...DEMO.member, orgs: [{ slug: DEMO.organization.slug, role: 'member' }] });
  if (!(await clients.exists(DEMO.clientId))) {
    await clients.create(OPERATOR, {
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
