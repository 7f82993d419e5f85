import crypto from 'node:crypto';
import mongoose from 'mongoose';
import { DuplicateError, type Federation, type Organization, type OrganizationRepository } from '../types.js';
import type { AdoptionDoc } from './adoption.js';
import { insertUnique, isDuplicateKey, schemaOptions, type Collection } from './database.js';
import type { MembershipInvitationDoc } from './membership-invitations.js';
import type { MembershipDoc } from './memberships.js';
import type { UserDoc } from './users.js';

export interface OrganizationDoc {
  _id: string;
  slug: string;
  name: string;
  forceTwoFactor: boolean;
  /** Absent on documents written before the grace period existed: read as the defaults. */
  enforcementStartedAt?: Date | null;
  gracePeriodDays?: number;
  rememberBrowserDays?: number;
  applyTo?: 'all' | 'owners';
  /** Absent on documents written before phishing-resistant sign-in: any factor, confirmation on. */
  requiredFactor?: 'any' | 'security-key';
  keysRequiredSince?: Date | null;
  confirmSetupByEmail?: boolean;
  federation: Federation | null;
  /** Copied out of `federation` so that a unique index can keep a domain to one organization. */
  federatedDomains?: string[];
  createdAt: Date;
}

export const organizationSchema = new mongoose.Schema<OrganizationDoc>(
  {
    _id: { type: String, required: true },
    slug: { type: String, required: true, unique: true },
    name: { type: String, required: true },
    forceTwoFactor: { type: Boolean, default: false },
    enforcementStartedAt: { type: Date, default: null },
    gracePeriodDays: { type: Number, default: 0 },
    rememberBrowserDays: { type: Number, default: 0 },
    applyTo: { type: String, enum: ['all', 'owners'], default: 'all' },
    requiredFactor: { type: String, enum: ['any', 'security-key'], default: 'any' },
    keysRequiredSince: { type: Date, default: null },
    confirmSetupByEmail: { type: Boolean, default: true },
    federation: { type: mongoose.Schema.Types.Mixed, default: null },
    federatedDomains: { type: [String], default: undefined },
    createdAt: { type: Date, required: true },
  },
  { ...schemaOptions, collection: 'organizations' },
);
organizationSchema.index({ federatedDomains: 1 }, { unique: true, sparse: true });

const toOrganization = (doc: OrganizationDoc): Organization => ({
  id: doc._id,
  slug: doc.slug,
  name: doc.name,
  forceTwoFactor: doc.forceTwoFactor === true,
  // An organization enforcing since before the start was recorded: its creation stands in.
  enforcementStartedAt: doc.enforcementStartedAt ?? (doc.forceTwoFactor === true ? doc.createdAt : null),
  gracePeriodDays: doc.gracePeriodDays ?? 0,
  rememberBrowserDays: doc.rememberBrowserDays ?? 0,
  applyTo: doc.applyTo ?? 'all',
  requiredFactor: doc.requiredFactor ?? 'any',
  keysRequiredSince: doc.keysRequiredSince ?? null,
  confirmSetupByEmail: doc.confirmSetupByEmail ?? true,
  federation: doc.federation ? { ...doc.federation, trustedForTwoFactor: doc.federation.trustedForTwoFactor === true } : null,
  createdAt: doc.createdAt,
});

/** What belongs to an organization and goes when it is deleted (the embedded store's foreign keys do this there). */
export interface OrganizationDependents {
  readonly memberships: Collection<MembershipDoc>;
  readonly membershipInvitations: Collection<MembershipInvitationDoc>;
  readonly adoption: Collection<AdoptionDoc>;
  readonly users: Collection<UserDoc>;
}

export function mongoOrganizations(organizations: Collection<OrganizationDoc>, dependents: OrganizationDependents): OrganizationRepository {
  return {
    async create(organization) {
      const doc: OrganizationDoc = {
        _id: crypto.randomUUID(),
        slug: organization.slug,
        name: organization.name,
        forceTwoFactor: false,
        enforcementStartedAt: null,
        gracePeriodDays: 0,
        rememberBrowserDays: 0,
        applyTo: 'all',
        requiredFactor: 'any',
        keysRequiredSince: null,
        confirmSetupByEmail: true,
        federation: null,
        createdAt: new Date(),
      };
      await insertUnique('slug', () => organizations.insertOne(doc));
      return toOrganization(doc);
    },
    async findById(id) {
      const doc = await organizations.findOne({ _id: id });
      return doc ? toOrganization(doc) : null;
    },
    async findBySlug(slug) {
      const doc = await organizations.findOne({ slug });
      return doc ? toOrganization(doc) : null;
    },
    async findByIds(ids) {
      if (ids.length === 0) return [];
      const docs = await organizations.find({ _id: { $in: ids } }).sort({ slug: 1 }).toArray();
      return docs.map(toOrganization);
    },
    async setForceTwoFactor(id, on, at) {
      await organizations.updateOne({ _id: id }, { $set: { forceTwoFactor: on } });
      // Only the first switch-on is kept: a conditional update, so racing switches agree on it.
      if (on) await organizations.updateOne({ _id: id, enforcementStartedAt: null }, { $set: { enforcementStartedAt: at } });
    },
    async setRollout(id, settings, at) {
      const { gracePeriodDays, rememberBrowserDays, applyTo, requiredFactor, confirmSetupByEmail } = settings;
      await organizations.updateOne({ _id: id }, { $set: { gracePeriodDays, rememberBrowserDays, applyTo, requiredFactor, confirmSetupByEmail } });
      // Only the first time keys are required is kept, as with enforcement.
      if (requiredFactor === 'security-key') await organizations.updateOne({ _id: id, keysRequiredSince: null }, { $set: { keysRequiredSince: at } });
    },
    async rename(id, name) {
      await organizations.updateOne({ _id: id }, { $set: { name } });
    },
    async delete(id) {
      // The domains live in the organization's own document and go with it.
      if ((await organizations.deleteOne({ _id: id })).deletedCount === 0) return false;
      await dependents.memberships.deleteMany({ organizationId: id });
      await dependents.membershipInvitations.deleteMany({ organizationId: id });
      await dependents.adoption.deleteMany({ organizationId: id });
      await dependents.users.updateMany({ managedBy: id }, { $set: { managedBy: null } });
      return true;
    },
    async setFederation(id, federation) {
      // One update of one document: the unique index on federatedDomains refuses it whole or lets it
      // through whole. An empty array would itself be an indexed value, so no domains means no field.
      const update: mongoose.mongo.UpdateFilter<OrganizationDoc> = federation && federation.domains.length > 0
        ? { $set: { federation, federatedDomains: [...federation.domains] } }
        : { $set: { federation }, $unset: { federatedDomains: '' } };
      try {
        await organizations.updateOne({ _id: id }, update);
      } catch (error) {
        if (isDuplicateKey(error)) throw new DuplicateError('domain');
        throw error;
      }
    },
    async findByFederatedDomain(domain) {
      const doc = await organizations.findOne({ federatedDomains: domain.toLowerCase(), federation: { $ne: null } });
      return doc ? toOrganization(doc) : null;
    },
    async list() {
      const docs = await organizations.find().sort({ slug: 1 }).toArray();
      return docs.map(toOrganization);
    },
  };
}
