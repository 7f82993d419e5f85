import { describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';
import { OPERATOR } from '../../src/application/actor.js';
import { startTestInstance, tempDir, type TestInstance, waitForLogLine, writeInDatabase } from '../support/twofold.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Moves one audit event back in time, in whichever store the instance runs on. */
async function backdate(twofold: TestInstance, id: string, days: number): Promise<void> {
  const at = new Date(Date.now() - days * DAY_MS);
  if (twofold.config.mongodbUri) {
    const client = await MongoClient.connect(twofold.config.mongodbUri);
    try {
      await client.db().collection('audit_events').updateOne({ _id: id as never }, { $set: { at } });
    } finally {
      await client.close();
    }
    return;
  }
  expect(writeInDatabase(twofold, 'UPDATE audit_events SET at = ? WHERE id = ?', at.getTime(), id)).toBe(1);
}

describe('AUDIT_RETENTION_DAYS', () => {
  it('deletes the audit events older than the retention when the worker loop runs, and keeps the younger ones', async () => {
    const env = { DATA_DIR: tempDir(), AUDIT_RETENTION_DAYS: '30' };
    let twofold = await startTestInstance(env);
    try {
      await twofold.app.organizations.create(OPERATOR, 'city', 'City');
      await twofold.app.organizations.setForceTwoFactor(OPERATOR, 'city', true, null);
      await twofold.app.organizations.setForceTwoFactor(OPERATOR, 'city', false, null);
      const { events } = await twofold.store.audit.list((await twofold.store.organizations.findBySlug('city'))!.id, { limit: 10, offset: 0 });
      // Creating the organization is on the record too, before its two switches.
      expect(events.map((event) => event.action)).toStrictEqual(['policy.changed', 'policy.changed', 'organization.created']);
      const [younger, older, created] = events;
      await twofold.close();
      await backdate(twofold, older!.id, 31);
      await backdate(twofold, younger!.id, 29);

      // The worker loop prunes at start, then daily.
      twofold = await startTestInstance(env);
      const line = JSON.parse(await waitForLogLine(twofold, (text) => text.includes('pruned the audit log'))) as Record<string, unknown>;
      expect(line).toMatchObject({ auditEvents: 1, auditRetentionDays: 30 });
      const kept = await twofold.store.audit.list((await twofold.store.organizations.findBySlug('city'))!.id, { limit: 10, offset: 0 });
      expect(kept.events.map((event) => event.id)).toStrictEqual([created!.id, younger!.id]);
    } finally {
      await twofold.close();
    }
  });
});
