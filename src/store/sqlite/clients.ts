import type { SqliteDatabase } from './database.js';
import { isUniqueViolation } from './database.js';
import { DuplicateError, type Client, type ClientRepository, type NewClient } from '../types.js';

interface ClientRow {
  client_id: string;
  name: string;
  sealed_secret: string | null;
  redirect_uris: string;
  post_logout_redirect_uris: string;
  first_party: number;
  backchannel_logout_uri: string | null;
  created_at: number;
}

const toClient = (row: ClientRow): Client => ({
  clientId: row.client_id,
  name: row.name,
  sealedSecret: row.sealed_secret,
  redirectUris: JSON.parse(row.redirect_uris) as string[],
  postLogoutRedirectUris: JSON.parse(row.post_logout_redirect_uris) as string[],
  firstParty: row.first_party === 1,
  backchannelLogoutUri: row.backchannel_logout_uri,
  createdAt: new Date(row.created_at),
});

export function sqliteClients(db: SqliteDatabase): ClientRepository {
  const insert = db.prepare(`INSERT INTO clients
    (client_id, name, sealed_secret, redirect_uris, post_logout_redirect_uris, first_party, backchannel_logout_uri, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
  const one = db.prepare<[string], ClientRow>('SELECT * FROM clients WHERE client_id = ?');
  const all = db.prepare<[], ClientRow>('SELECT * FROM clients ORDER BY client_id');

  return {
    async create(client: NewClient) {
      try {
        insert.run(
          client.clientId,
          client.name,
          client.sealedSecret,
          JSON.stringify(client.redirectUris),
          JSON.stringify(client.postLogoutRedirectUris),
          client.firstParty ? 1 : 0,
          client.backchannelLogoutUri ?? null,
          Date.now(),
        );
      } catch (error) {
        if (isUniqueViolation(error)) throw new DuplicateError('clientId');
        throw error;
      }
      return toClient(one.get(client.clientId)!);
    },
    async find(clientId) {
      const row = one.get(clientId);
      return row ? toClient(row) : null;
    },
    async list() {
      return all.all().map(toClient);
    },
  };
}
