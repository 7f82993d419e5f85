import mongoose from 'mongoose';
import type { Client, ClientRepository } from '../types.js';
import { insertUnique, schemaOptions, type Collection } from './database.js';

export interface ClientDoc {
  _id: string;
  name: string;
  sealedSecret: string | null;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  firstParty: boolean;
  /** Missing on clients written before back-channel logout existed. */
  backchannelLogoutUri?: string | null;
  createdAt: Date;
}

export const clientSchema = new mongoose.Schema<ClientDoc>(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    sealedSecret: { type: String, default: null },
    redirectUris: { type: [String], required: true },
    postLogoutRedirectUris: { type: [String], default: [] },
    firstParty: { type: Boolean, default: false },
    backchannelLogoutUri: { type: String, default: null },
    createdAt: { type: Date, required: true },
  },
  { ...schemaOptions, collection: 'clients' },
);

const toClient = (doc: ClientDoc): Client => ({
  clientId: doc._id,
  name: doc.name,
  sealedSecret: doc.sealedSecret ?? null,
  redirectUris: doc.redirectUris,
  postLogoutRedirectUris: doc.postLogoutRedirectUris ?? [],
  firstParty: doc.firstParty === true,
  backchannelLogoutUri: doc.backchannelLogoutUri ?? null,
  createdAt: doc.createdAt,
});

export function mongoClients(clients: Collection<ClientDoc>): ClientRepository {
  return {
    async create(client) {
      const doc: ClientDoc = {
        _id: client.clientId,
        name: client.name,
        sealedSecret: client.sealedSecret,
        redirectUris: [...client.redirectUris],
        postLogoutRedirectUris: [...client.postLogoutRedirectUris],
        firstParty: client.firstParty,
        backchannelLogoutUri: client.backchannelLogoutUri ?? null,
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
  };
}
