import mongoose from 'mongoose';
import { DuplicateError } from '../types.js';

/**
 * Every repository queries a native driver collection typed with its documents, so that filters and
 * updates are checked against the document's fields and the driver's atomic single-document
 * operations (conditional updates, findOneAndUpdate, findOneAndDelete) are what runs, with nothing
 * in between. Mongoose opens the connection, and each collection's schema declares its indexes.
 */
export type Collection<Doc extends mongoose.mongo.Document> = mongoose.mongo.Collection<Doc>;

/** No `__v`, and nothing created behind our back: `openCollection` creates collections and indexes at start-up. */
export const schemaOptions = { versionKey: false, autoIndex: false, autoCreate: false } as const;

/**
 * Connects, failing within `serverSelectionTimeoutMS` with one clear error instead of buffering
 * commands until a server appears.
 */
export async function connect(uri: string, serverSelectionTimeoutMS: number): Promise<mongoose.Connection> {
  const connection = mongoose.createConnection(uri, { serverSelectionTimeoutMS, bufferCommands: false, autoIndex: false });
  try {
    return await connection.asPromise();
  } catch (error) {
    await connection.close().catch(() => undefined);
    throw new Error(`Cannot reach MongoDB at MONGODB_URI within ${serverSelectionTimeoutMS} ms: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Creates the collection and the indexes its schema declares, where missing, and returns it. */
export async function openCollection<Doc extends mongoose.mongo.Document>(
  connection: mongoose.Connection,
  modelName: string,
  schema: mongoose.Schema<Doc>,
): Promise<Collection<Doc>> {
  const model = connection.model(modelName, schema);
  // An existing collection is fine: mongoose ignores NamespaceExists.
  await model.createCollection();
  await model.createIndexes();
  return connection.collection<Doc>(model.collection.collectionName);
}

export function isDuplicateKey(error: unknown): boolean {
  return error instanceof mongoose.mongo.MongoServerError && error.code === 11000;
}

/** Runs an insert, turning a unique-index violation into DuplicateError(field). */
export async function insertUnique<T>(field: string, insert: () => Promise<T>): Promise<T> {
  try {
    return await insert();
  } catch (error) {
    if (isDuplicateKey(error)) throw new DuplicateError(field);
    throw error;
  }
}
