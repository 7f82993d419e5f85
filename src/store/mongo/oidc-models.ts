import mongoose from 'mongoose';
import { keptGrantIds } from '../kept-grants.js';
import type { OidcModelRepository, OidcPayload } from '../types.js';
import { schemaOptions, type Collection } from './database.js';

/**
 * The payload is kept as JSON text: oidc-provider's payloads can have keys with dots (resource
 * indicator URLs), which MongoDB before 5.0 and compatible servers refuse. `consumed` lives beside it
 * so that spending a code stays one conditional update.
 */
export interface OidcDoc {
  _id: string;
  model: string;
  payload: string;
  consumed: number | null;
  grantId: string | null;
  uid: string | null;
  userCode: string | null;
  accountId: string | null;
  /** Absent on documents written before clients could be deleted: `backfillClientIds` adds it. */
  clientId?: string | null;
  expiresAt: Date | null;
}

export const oidcModelSchema = new mongoose.Schema<OidcDoc>(
  {
    _id: { type: String, required: true },
    model: { type: String, required: true },
    payload: { type: String, required: true },
    consumed: { type: Number, default: null },
    grantId: { type: String, default: null },
    uid: { type: String, default: null },
    userCode: { type: String, default: null },
    accountId: { type: String, default: null },
    clientId: { type: String, default: null },
    expiresAt: { type: Date, default: null },
  },
  { ...schemaOptions, collection: 'oidc_models', minimize: false },
);
oidcModelSchema.index({ accountId: 1 }, { sparse: true });
oidcModelSchema.index({ grantId: 1 }, { sparse: true });
oidcModelSchema.index({ clientId: 1 }, { sparse: true });
oidcModelSchema.index({ model: 1, uid: 1 }, { sparse: true });
oidcModelSchema.index({ model: 1, userCode: 1 }, { sparse: true });
oidcModelSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

const payloadOf = (doc: OidcDoc | null): OidcPayload | null => {
  if (!doc) return null;
  const payload = JSON.parse(doc.payload) as OidcPayload;
  return doc.consumed === null || doc.consumed === undefined ? payload : { ...payload, consumed: doc.consumed };
};

const oidcKey = (model: string, id: string) => `${model}:${id}`;
const live = () => ({ $or: [{ expiresAt: null }, { expiresAt: { $gt: new Date() } }] });

export function mongoOidcModels(oidcModels: Collection<OidcDoc>): OidcModelRepository {
  return {
    async upsert(model, id, payload, expiresAt) {
      await oidcModels.replaceOne(
        { _id: oidcKey(model, id) },
        {
          model,
          payload: JSON.stringify(payload),
          consumed: typeof payload.consumed === 'number' ? payload.consumed : null,
          grantId: payload.grantId ?? null,
          uid: payload.uid ?? null,
          userCode: payload.userCode ?? null,
          accountId: typeof payload.accountId === 'string' ? payload.accountId : null,
          clientId: typeof payload.clientId === 'string' ? payload.clientId : null,
          expiresAt,
        },
        { upsert: true },
      );
    },
    async find(model, id) {
      return payloadOf(await oidcModels.findOne({ _id: oidcKey(model, id), ...live() }));
    },
    async findByUid(model, uid) {
      return payloadOf(await oidcModels.findOne({ model, uid, ...live() }));
    },
    async findByUserCode(model, userCode) {
      return payloadOf(await oidcModels.findOne({ model, userCode, ...live() }));
    },
    async consume(model, id) {
      const result = await oidcModels.updateOne(
        { _id: oidcKey(model, id), consumed: null },
        { $set: { consumed: Math.floor(Date.now() / 1000) } },
      );
      return result.modifiedCount === 1;
    },
    async destroy(model, id) {
      await oidcModels.deleteOne({ _id: oidcKey(model, id) });
    },
    async revokeByGrantId(model, grantId) {
      await oidcModels.deleteMany({ model, grantId });
    },
    async revokeByClientId(clientId) {
      return (await oidcModels.deleteMany({ clientId, model: { $ne: 'Session' } })).deletedCount;
    },
    async purgeExpired(now = new Date()) {
      const result = await oidcModels.deleteMany({ expiresAt: { $ne: null, $lte: now } });
      return result.deletedCount;
    },
    async sessionsOf(accountId) {
      const docs = await oidcModels.find({ accountId, model: 'Session', ...live() }).toArray();
      return docs.map((doc) => ({ id: doc._id.slice('Session:'.length), payload: payloadOf(doc)! }));
    },
    async endSessionsOf(accountId, exceptSessionId) {
      const kept = exceptSessionId ? await oidcModels.findOne({ _id: oidcKey('Session', exceptSessionId) }) : null;
      const keptGrants = keptGrantIds(payloadOf(kept));
      const rows = await oidcModels.find({ accountId }).project<Pick<OidcDoc, '_id' | 'model' | 'grantId'>>({ model: 1, grantId: 1 }).toArray();
      const doomed = rows.filter((row) => {
        if (row._id === oidcKey('Session', exceptSessionId ?? '')) return false;
        if (row.grantId && keptGrants.has(row.grantId)) return false;
        return !(row.model === 'Grant' && keptGrants.has(row._id.slice('Grant:'.length)));
      });
      await oidcModels.deleteMany({ _id: { $in: doomed.map((row) => row._id) } });
      return doomed.filter((row) => row.model === 'Session').length;
    },
  };
}
