import type { SqliteDatabase } from './database.js';
import { isUniqueViolation } from './database.js';
import { DuplicateError, type Client, type ClientRepository, type NewClient } from '../types.js';

interface ClientRow {
  client_id: string;
  name: string;
  sealed_secret: string | null;
  previous_sealed_secret: string | null;
  previous_secret_expires_at: number | null;
  redirect_uris: string;
  post_logout_redirect_uris: string;
  backchannel_logout_uri: string | null;
  first_party: number;
  created_at: number;
}

const toClient = (row: ClientRow): Client => ({
  clientId: row.client_id,
  name: row.name,
  sealedSecret: row.sealed_secret,
  previousSealedSecret: row.previous_sealed_secret,
  previousSecretExpiresAt: row.previous_secret_expires_at === null ? null : new Date(row.previous_secret_expires_at),
  redirectUris: JSON.parse(row.redirect_uris) as string[],
  postLogoutRedirectUris: JSON.parse(row.post_logout_redirect_uris) as string[],
  backchannelLogoutUri: row.backchannel_logout_uri,
  firstParty: row.first_party === 1,
  createdAt: new Date(row.created_at),
});

export function sqliteClients(db: SqliteDatabase): ClientRepository {
  const insert = db.prepare(`INSERT INTO clients
    (client_id, name, sealed_secret, redirect_uris, post_logout_redirect_uris, backchannel_logout_uri, first_party, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
  const one = db.prepare<[string], ClientRow>('SELECT * FROM clients WHERE client_id = ?');
  const all = db.prepare<[], ClientRow>('SELECT * FROM clients ORDER BY client_id');
  const rotate = db.prepare(`UPDATE clients SET sealed_secret = ?, previous_sealed_secret = ?, previous_secret_expires_at = ?
    WHERE client_id = ? AND sealed_secret = ?`);
  const remove = db.prepare('DELETE FROM clients WHERE client_id = ?');

  return {
    async create(client: NewClient) {
      try {
        insert.run(
          client.clientId,
          client.name,
          client.sealedSecret,
          JSON.stringify(client.redirectUris),
          JSON.stringify(client.postLogoutRedirectUris),
          client.backchannelLogoutUri ?? null,
          client.firstParty ? 1 : 0,
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
    async rotateSecret(clientId, currentSealedSecret, { sealedSecret, previous }) {
      return rotate.run(sealedSecret, previous?.sealedSecret ?? null, previous?.expiresAt.getTime() ?? null, clientId, currentSealedSecret).changes === 1;
    },
    async delete(clientId) {
      return remove.run(clientId).changes === 1;
    },
  };
}
