import crypto from 'node:crypto';
import { afterAll } from '@jest/globals';
import { openMongoStore } from '../../src/store/mongo/index.js';
import { reportSkip } from '../support/skips.js';
import { storeContract } from './contract.js';

/**
 * The same contract against MongoDB: MONGODB_URI when set, else a mongod started by
 * mongodb-memory-server (MONGOMS_SYSTEM_BINARY points it at an installed one). Where neither can be
 * had the suite is reported as skipped, with the reason, instead of passing silently.
 */
async function mongoUri(): Promise<{ uri?: string; stop?: () => Promise<unknown>; reason?: string }> {
  if (process.env.MONGODB_URI) return { uri: process.env.MONGODB_URI };
  try {
    const { MongoMemoryServer } = await import('mongodb-memory-server');
    const server = await Promise.race([
      MongoMemoryServer.create(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('mongod did not start within 60 s')), 60_000).unref()),
    ]);
    return { uri: server.getUri(), stop: () => server.stop() };
  } catch (error) {
    const why = (error as Error).message.split('\n')[0]!.replace(/https?:\/\/[^\s"]+/g, '<download URL>');
    return { reason: `no MONGODB_URI is set and mongodb-memory-server could not start a mongod (${why})` };
  }
}

const mongo = await mongoUri();
if (mongo.reason) {
  reportSkip('MongoDB store contract suite', `${mongo.reason}. Set MONGODB_URI or MONGOMS_SYSTEM_BINARY to run it.`);
}
afterAll(async () => {
  await mongo.stop?.();
});

function databaseUri(base: string): string {
  const url = new URL(base);
  url.pathname = `/twofold_test_${crypto.randomBytes(6).toString('hex')}`;
  return url.href;
}

storeContract('MongoDB', () => openMongoStore(databaseUri(mongo.uri!), { serverSelectionTimeoutMS: 5000 }), { skip: Boolean(mongo.reason) });
