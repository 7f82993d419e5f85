import crypto from 'node:crypto';
import type { SqliteDatabase } from './database.js';
import type { AuditAction, AuditEvent, AuditRepository } from '../types.js';

interface AuditRow {
  id: string;
  organization_id: string | null;
  at: number;
  action: AuditAction;
  actor_id: string | null;
  actor_email: string | null;
  target_id: string | null;
  target_email: string | null;
  ip: string | null;
  details: string;
}

const toEvent = (row: AuditRow): AuditEvent => ({
  id: row.id,
  organizationId: row.organization_id,
  at: new Date(row.at),
  action: row.action,
  actorId: row.actor_id,
  actorEmail: row.actor_email,
  targetId: row.target_id,
  targetEmail: row.target_email,
  ip: row.ip,
  details: JSON.parse(row.details) as AuditEvent['details'],
});

export function sqliteAudit(db: SqliteDatabase): AuditRepository {
  const insert = db.prepare(`INSERT INTO audit_events (id, organization_id, at, action, actor_id, actor_email, target_id, target_email, ip, details)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  // `IS ?` matches NULL too, so site-level events (no organization) list the same way.
  const page = db.prepare<[string | null, number, number], AuditRow>('SELECT * FROM audit_events WHERE organization_id IS ? ORDER BY at DESC, rowid DESC LIMIT ? OFFSET ?');
  const count = db.prepare<[string | null], { n: number }>('SELECT COUNT(*) AS n FROM audit_events WHERE organization_id IS ?');
  const deleteBefore = db.prepare('DELETE FROM audit_events WHERE at < ?');
  const appendAll = db.transaction((events: Parameters<AuditRepository['append']>[0]) => {
    const at = Date.now();
    for (const event of events) {
      insert.run(crypto.randomUUID(), event.organizationId, at, event.action, event.actorId, event.actorEmail, event.targetId, event.targetEmail, event.ip, JSON.stringify(event.details));
    }
  });
  return {
    async append(events) {
      appendAll(events);
    },
    async list(organizationId, { limit, offset }) {
      return { events: page.all(organizationId, limit, offset).map(toEvent), total: count.get(organizationId)!.n };
    },
    async deleteOlderThan(before) {
      return deleteBefore.run(before.getTime()).changes;
    },
  };
}
