import mongoose from 'mongoose';

/**
 * Collections and their indexes. Unique indexes carry the uniqueness rules (email, slug, client id,
 * one membership per user and organization); the TTL index lets MongoDB itself expire
 * oidc-provider's sessions, interactions, codes and tokens.
 */
const { Schema } = mongoose;
const options = { versionKey: false, autoIndex: false, autoCreate: false } as const;

export const userSchema = new Schema(
  {
    _id: { type: String, required: true },
    email: { type: String, required: true, unique: true },
    name: { type: String, required: true },
    passwordHash: { type: String, default: null },
    siteAdmin: { type: Boolean, default: false },
    managedBy: { type: String, default: null },
    createdAt: { type: Date, required: true },
    lastSignInAt: { type: Date, default: null },
  },
  { ...options, collection: 'users' },
);

export const organizationSchema = new Schema(
  {
    _id: { type: String, required: true },
    slug: { type: String, required: true, unique: true },
    name: { type: String, required: true },
    forceTwoFactor: { type: Boolean, default: false },
    federation: { type: Schema.Types.Mixed, default: null },
    /** Copied out of `federation` so that a unique index can keep a domain to one organization. */
    federatedDomains: { type: [String], default: undefined },
    createdAt: { type: Date, required: true },
  },
  { ...options, collection: 'organizations' },
);
organizationSchema.index({ federatedDomains: 1 }, { unique: true, sparse: true });

export const identityLinkSchema = new Schema(
  {
    issuer: { type: String, required: true },
    subject: { type: String, required: true },
    userId: { type: String, required: true },
    createdAt: { type: Date, required: true },
  },
  { ...options, collection: 'identity_links' },
);
identityLinkSchema.index({ issuer: 1, subject: 1 }, { unique: true });
identityLinkSchema.index({ issuer: 1, userId: 1 }, { unique: true });

export const membershipSchema = new Schema(
  {
    organizationId: { type: String, required: true },
    userId: { type: String, required: true, index: true },
    role: { type: String, required: true, enum: ['owner', 'member'] },
    createdAt: { type: Date, required: true },
  },
  { ...options, collection: 'memberships' },
);
membershipSchema.index({ organizationId: 1, userId: 1 }, { unique: true });

export const clientSchema = new Schema(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    sealedSecret: { type: String, default: null },
    redirectUris: { type: [String], required: true },
    postLogoutRedirectUris: { type: [String], default: [] },
    firstParty: { type: Boolean, default: false },
    createdAt: { type: Date, required: true },
  },
  { ...options, collection: 'clients' },
);

export const settingSchema = new Schema(
  { _id: { type: String, required: true }, value: { type: String, required: true } },
  { ...options, collection: 'settings' },
);

export const keySchema = new Schema(
  { _id: { type: String, required: true }, value: { type: String, required: true } },
  { ...options, collection: 'keys' },
);

export const oidcModelSchema = new Schema(
  {
    _id: { type: String, required: true },
    model: { type: String, required: true },
    payload: { type: String, required: true },
    consumed: { type: Number, default: null },
    grantId: { type: String, default: null },
    uid: { type: String, default: null },
    userCode: { type: String, default: null },
    accountId: { type: String, default: null },
    expiresAt: { type: Date, default: null },
  },
  { ...options, collection: 'oidc_models', minimize: false },
);
oidcModelSchema.index({ accountId: 1 }, { sparse: true });
oidcModelSchema.index({ grantId: 1 }, { sparse: true });
oidcModelSchema.index({ model: 1, uid: 1 }, { sparse: true });
oidcModelSchema.index({ model: 1, userCode: 1 }, { sparse: true });
oidcModelSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export const secondFactorSchema = new Schema(
  {
    _id: { type: String, required: true },
    sealedSecret: { type: String, required: true },
    enabledAt: { type: Date, required: true },
    lastTimeStep: { type: Number, required: true },
    recoveryKeyId: { type: String, required: true },
    recoveryCodes: { type: Schema.Types.Mixed, default: {} },
  },
  { ...options, collection: 'second_factors' },
);

export const enrollmentSchema = new Schema(
  {
    _id: { type: String, required: true },
    userId: { type: String, required: true },
    sealedSecret: { type: String, default: null },
    sealedRecoveryCodes: { type: String, default: null },
    expiresAt: { type: Date, required: true },
  },
  { ...options, collection: 'pending_enrollments' },
);
enrollmentSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export const attemptSchema = new Schema(
  {
    _id: { type: String, required: true },
    count: { type: Number, required: true },
    lockedUntil: { type: Date, default: null },
    forgetAt: { type: Date, required: true },
  },
  { ...options, collection: 'attempts' },
);
attemptSchema.index({ forgetAt: 1 }, { expireAfterSeconds: 0 });

export const auditSchema = new Schema(
  {
    _id: { type: String, required: true },
    organizationId: { type: String, default: null },
    at: { type: Date, required: true },
    seq: { type: Number, required: true },
    action: { type: String, required: true },
    actorId: { type: String, default: null },
    actorEmail: { type: String, default: null },
    targetId: { type: String, default: null },
    targetEmail: { type: String, default: null },
    ip: { type: String, default: null },
    details: { type: Schema.Types.Mixed, default: {} },
  },
  { ...options, collection: 'audit_events', minimize: false },
);
auditSchema.index({ organizationId: 1, seq: -1 });

export const invitationSchema = new Schema(
  { _id: { type: String, required: true }, userId: { type: String, required: true }, expiresAt: { type: Date, required: true } },
  { ...options, collection: 'invitations' },
);
invitationSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export const membershipInvitationSchema = new Schema(
  {
    _id: { type: String, required: true },
    organizationId: { type: String, required: true },
    userId: { type: String, required: true, index: true },
    role: { type: String, required: true, enum: ['owner', 'member'] },
    invitedBy: { type: String, default: null },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
  },
  { ...options, collection: 'membership_invitations' },
);
membershipInvitationSchema.index({ organizationId: 1, userId: 1 }, { unique: true });
membershipInvitationSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export function isDuplicateKey(error: unknown): boolean {
  return (error as { code?: number }).code === 11000;
}
