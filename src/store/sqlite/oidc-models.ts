import type { SqliteDatabase } from './database.js';
import { keptGrantIds } from '../kept-grants.js';
import type { OidcModelRepository, OidcPayload } from '../types.js';

interface PayloadRow {
  payload: string;
}

export function sqliteOidcModels(db: SqliteDatabase): OidcModelRepository {
  const upsert = db.prepare(`
    INSERT INTO oidc_models (model, id, payload, grant_id, uid, user_code, account_id, client_id, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id,
      uid = excluded.uid, user_code = excluded.user_code, account_id = excluded.account_id, client_id = excluded.client_id,
      expires_at = excluded.expires_at`);
  const live = '(expires_at IS NULL OR expires_at > ?)';
  const byId = db.prepare<[string, string, number], PayloadRow>(`SELECT payload FROM oidc_models WHERE model = ? AND id = ? AND ${live}`);
  const byUid = db.prepare<[string, string, number], PayloadRow>(`SELECT payload FROM oidc_models WHERE model = ? AND uid = ? AND ${live}`);
  const byUserCode = db.prepare<[string, string, number], PayloadRow>(
    `SELECT payload FROM oidc_models WHERE model = ? AND user_code = ? AND ${live}`,
  );
  const consume = db.prepare(
    "UPDATE oidc_models SET payload = json_set(payload, '$.consumed', ?) WHERE model = ? AND id = ? AND json_extract(payload, '$.consumed') IS NULL",
  );
  const destroy = db.prepare('DELETE FROM oidc_models WHERE model = ? AND id = ?');
  const revoke = db.prepare('DELETE FROM oidc_models WHERE model = ? AND grant_id = ?');
  const revokeClient = db.prepare("DELETE FROM oidc_models WHERE client_id = ? AND model <> 'Session'");
  const purge = db.prepare('DELETE FROM oidc_models WHERE expires_at IS NOT NULL AND expires_at <= ?');
  const ofAccount = db.prepare<[string], { model: string; id: string; grant_id: string | null }>(
    'SELECT model, id, grant_id FROM oidc_models WHERE account_id = ?',
  );
  const deleteOne = db.prepare('DELETE FROM oidc_models WHERE model = ? AND id = ?');
  const sessionsOf = db.prepare<[string, number], { id: string; payload: string }>(
    `SELECT id, payload FROM oidc_models WHERE account_id = ? AND model = 'Session' AND ${live}`,
  );
  const endSessions = db.transaction((accountId: string, exceptSessionId: string | undefined) => {
    const kept = exceptSessionId ? parse(byId.get('Session', exceptSessionId, Date.now())) : null;
    const keptGrants = keptGrantIds(kept);
    let ended = 0;
    for (const row of ofAccount.all(accountId)) {
      if (row.model === 'Session' && row.id === exceptSessionId) continue;
      if (row.grant_id !== null && keptGrants.has(row.grant_id)) continue;
      if (row.model === 'Grant' && keptGrants.has(row.id)) continue;
      deleteOne.run(row.model, row.id);
      if (row.model === 'Session') ended += 1;
    }
    return ended;
  });

  const parse = (row: PayloadRow | undefined): OidcPayload | null => (row ? (JSON.parse(row.payload) as OidcPayload) : null);

  return {
    async upsert(model, id, payload, expiresAt) {
      upsert.run(
        model,
        id,
        JSON.stringify(payload),
        payload.grantId ?? null,
        payload.uid ?? null,
        payload.userCode ?? null,
        typeof payload.accountId === 'string' ? payload.accountId : null,
        typeof payload.clientId === 'string' ? payload.clientId : null,
        expiresAt?.getTime() ?? null,
      );
    },
    async find(model, id) {
      return parse(byId.get(model, id, Date.now()));
    },
    async findByUid(model, uid) {
      return parse(byUid.get(model, uid, Date.now()));
    },
    async findByUserCode(model, userCode) {
      return parse(byUserCode.get(model, userCode, Date.now()));
    },
    async consume(model, id) {
      return consume.run(Math.floor(Date.now() / 1000), model, id).changes === 1;
    },
    async destroy(model, id) {
      destroy.run(model, id);
    },
    async revokeByGrantId(model, grantId) {
      revoke.run(model, grantId);
    },
    async revokeByClientId(clientId) {
      return revokeClient.run(clientId).changes;
    },
    async purgeExpired(now = new Date()) {
      return purge.run(now.getTime()).changes;
    },
    async endSessionsOf(accountId, exceptSessionId) {
      return endSessions.immediate(accountId, exceptSessionId);
    },
    async sessionsOf(accountId) {
      return sessionsOf.all(accountId, Date.now()).map((row) => ({ id: row.id, payload: JSON.parse(row.payload) as OidcPayload }));
    },
  };
}
