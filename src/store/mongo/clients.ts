import mongoose from 'mongoose';
import type { Client, ClientRepository } from '../types.js';
import { insertUnique, schemaOptions, type Collection } from './database.js';

export interface ClientDoc {
  _id: string;
  name: string;
  sealedSecret: string | null;
  /** Absent on documents written before secrets could be rotated. */
  previousSealedSecret?: string | null;
  previousSecretExpiresAt?: Date | null;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  backchannelLogoutUri?: string | null;
  firstParty: boolean;
  createdAt: Date;
}

export const clientSchema = new mongoose.Schema<ClientDoc>(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    sealedSecret: { type: String, default: null },
    previousSealedSecret: { type: String, default: null },
    previousSecretExpiresAt: { type: Date, default: null },
    redirectUris: { type: [String], required: true },
    postLogoutRedirectUris: { type: [String], default: [] },
    backchannelLogoutUri: { type: String, default: null },
    firstParty: { type: Boolean, default: false },
    createdAt: { type: Date, required: true },
  },
  { ...schemaOptions, collection: 'clients' },
);

const toClient = (doc: ClientDoc): Client => ({
  clientId: doc._id,
  name: doc.name,
  sealedSecret: doc.sealedSecret ?? null,
  previousSealedSecret: doc.previousSealedSecret ?? null,
  previousSecretExpiresAt: doc.previousSecretExpiresAt ?? null,
  redirectUris: doc.redirectUris,
  postLogoutRedirectUris: doc.postLogoutRedirectUris ?? [],
  backchannelLogoutUri: doc.backchannelLogoutUri ?? null,
  firstParty: doc.firstParty === true,
  createdAt: doc.createdAt,
});

export function mongoClients(clients: Collection<ClientDoc>): ClientRepository {
  return {
    async create(client) {
      const doc: ClientDoc = {
        _id: client.clientId,
        name: client.name,
        sealedSecret: client.sealedSecret,
        previousSealedSecret: null,
        previousSecretExpiresAt: null,
        redirectUris: [...client.redirectUris],
        postLogoutRedirectUris: [...client.postLogoutRedirectUris],
        backchannelLogoutUri: client.backchannelLogoutUri ?? null,
        firstParty: client.firstParty,
        createdAt: new Date(),
      };
      await insertUnique('clientId', () => clients.insertOne(doc));
      return toClient(doc);
    },
    async find(clientId) {
      const doc = await clients.findOne({ _id: clientId });
      return doc ? toClient(doc) : null;
    },
    async list() {
      const docs = await clients.find().sort({ _id: 1 }).toArray();
      return docs.map(toClient);
    },
    async rotateSecret(clientId, currentSealedSecret, { sealedSecret, previous }) {
      const result = await clients.updateOne(
        { _id: clientId, sealedSecret: currentSealedSecret },
        { $set: { sealedSecret, previousSealedSecret: previous?.sealedSecret ?? null, previousSecretExpiresAt: previous?.expiresAt ?? null } },
      );
      return result.modifiedCount === 1;
    },
    async delete(clientId) {
      return (await clients.deleteOne({ _id: clientId })).deletedCount === 1;
    },
  };
}
