import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import type { PasswordHasher } from '../security/password-hasher.js';
import type { SecretBox } from '../security/secret-box.js';
import { DuplicateError, type Client, type Membership, type Organization, type Role, type Store, type User } from '../store/types.js';
import {
  normalizeEmail,
  validateClientId,
  validateClientSecret,
  validateName,
  validatePassword,
  validateRedirectUri,
  validateSlug,
} from './validation.js';

export interface OrgAssignment {
  readonly slug: string;
  readonly role: Role;
}

export interface CreateUserInput {
  readonly email: string;
  readonly name?: string;
  readonly password?: string;
  readonly orgs?: readonly OrgAssignment[];
  readonly siteAdmin?: boolean;
}

export interface CreateClientInput {
  readonly clientId: string;
  readonly name?: string;
  readonly redirectUris: readonly string[];
  readonly postLogoutRedirectUris?: readonly string[];
  readonly secret?: string;
  readonly firstParty?: boolean;
}

/** Context string binding a sealed client secret to its client. */
export const clientSecretContext = (clientId: string) => `client-secret:${clientId}`;

/**
 * The business operations on users, organizations, memberships and clients — validated, with
 * errors as sentences. The command line, the demo seeding and the admin pages all go through here.
 */
export class Directory {
  constructor(
    private readonly store: Store,
    private readonly hasher: PasswordHasher,
    private readonly box: SecretBox,
  ) {}

  async createOrganization(slug: string, name: string): Promise<Organization> {
    try {
      return await this.store.organizations.create({ slug: validateSlug(slug), name: validateName(name, 'organization') });
    } catch (error) {
      if (error instanceof DuplicateError) throw new ConflictError(`An organization with the slug "${slug}" already exists.`);
      throw error;
    }
  }

  async requireOrganization(slug: string): Promise<Organization> {
    const organization = await this.store.organizations.findBySlug(slug);
    if (!organization) throw new NotFoundError(`There is no organization with the slug "${slug}".`);
    return organization;
  }

  async setForceTwoFactor(slug: string, on: boolean): Promise<Organization> {
    const organization = await this.requireOrganization(slug);
    await this.store.organizations.setForceTwoFactor(organization.id, on);
    return { ...organization, forceTwoFactor: on };
  }

  async createUser(input: CreateUserInput): Promise<User> {
    const email = normalizeEmail(input.email);
    const organizations = await Promise.all((input.orgs ?? []).map(async ({ slug, role }) => ({ organization: await this.requireOrganization(slug), role })));
    // Without a password, the account is made for an organization's identity provider, which then
    // manages it: the operator's deliberate choice (docs/security-model.md, "Managed accounts").
    const federated = organizations.filter(({ organization }) => organization.federation !== null);
    if (input.password === undefined) {
      if (federated.length === 0) throw new ValidationError('A password is required unless the user belongs to an organization that signs in at its own identity provider.', 'password');
      if (federated.length > 1) throw new ValidationError('A user without a password signs in at one organization\'s identity provider: name only one such organization.', 'password');
      if (input.siteAdmin) throw new ValidationError('A site admin signs in here and needs a password.', 'password');
    }
    const managedBy = input.password === undefined ? federated[0]!.organization.id : null;
    const passwordHash = input.password === undefined ? null : await this.hasher.hash(validatePassword(input.password));
    let user: User;
    try {
      user = await this.store.users.create({
        email,
        name: input.name === undefined ? email.split('@')[0]! : validateName(input.name, 'user'),
        passwordHash,
        siteAdmin: input.siteAdmin ?? false,
        managedBy,
      });
    } catch (error) {
      if (error instanceof DuplicateError) throw new ConflictError(`A user with the email "${email}" already exists.`);
      throw error;
    }
    for (const { organization, role } of organizations) {
      await this.store.memberships.put(organization.id, user.id, role);
    }
    return user;
  }

  async requireUser(email: string): Promise<User> {
    const normalized = normalizeEmail(email);
    const user = await this.store.users.findByEmail(normalized);
    if (!user) throw new NotFoundError(`There is no user with the email "${normalized}".`);
    return user;
  }

  async addMember(slug: string, email: string, role: Role): Promise<Membership> {
    const organization = await this.requireOrganization(slug);
    const user = await this.requireUser(email);
    return this.store.memberships.put(organization.id, user.id, role);
  }

  async createClient(input: CreateClientInput): Promise<Client> {
    const clientId = validateClientId(input.clientId);
    if (input.redirectUris.length === 0) throw new ValidationError('A client needs at least one redirect URI.', 'redirectUri');
    const redirectUris = input.redirectUris.map(validateRedirectUri);
    const postLogoutRedirectUris = (input.postLogoutRedirectUris ?? []).map(validateRedirectUri);
    const secret = input.secret === undefined ? null : validateClientSecret(input.secret);
    try {
      return await this.store.clients.create({
        clientId,
        name: input.name === undefined ? clientId : validateName(input.name, 'client'),
        sealedSecret: secret === null ? null : this.box.seal(secret, clientSecretContext(clientId)),
        redirectUris,
        postLogoutRedirectUris,
        firstParty: input.firstParty ?? false,
      });
    } catch (error) {
      if (error instanceof DuplicateError) throw new ConflictError(`A client with the id "${clientId}" already exists.`);
      throw error;
    }
  }
}
