import type Database from 'better-sqlite3';

/** A prepared statement whose every run goes through the connection's open transaction. */
export interface SqliteStatement<P extends unknown[], R> {
  run(...params: P): Database.RunResult;
  get(...params: P): R | undefined;
  all(...params: P): R[];
  iterate(...params: P): IterableIterator<R>;
}

/** What the repositories use of the embedded database. */
export interface SqliteDatabase {
  prepare<P extends unknown[] = unknown[], R = unknown>(sql: string): SqliteStatement<P, R>;
  transaction<F extends (...args: any[]) => unknown>(fn: F): Database.Transaction<F>;
  /** Commits what was written so far (see turnTransactions). */
  commit(): void;
  close(): void;
}

/**
 * The commits of this process's connections with a transaction open. A connection about to begin
 * one commits the others' first: in one process they share one thread, so one waiting for another's
 * lock would wait for a commit that cannot come until it gives up (two stores on one file in one
 * process: the command line run in-process by the tests, two servers in one test).
 */
const openElsewhere = new Set<() => void>();

/**
 * SQLITE_BUSY or one of its extended codes. Told by the code, not by the class: the native module
 * throws the SqliteError of the first copy of better-sqlite3 a process loaded, which is not every
 * copy's (the tests load one per test file).
 */
const isBusy = (error: unknown) => typeof (error as { code?: unknown })?.code === 'string' && (error as { code: string }).code.startsWith('SQLITE_BUSY');

/**
 * The connection with one transaction per turn of the event loop instead of one per statement
 * (docs/security-model.md, "The embedded store"): the first statement of a turn opens it — a read
 * transaction, which the first write turns into a write transaction (begun afresh only when another
 * connection holds the lock or wrote since the read began) — and it is
 * committed when the turn ends, or earlier by `commit()` (before a response is written). A sign-in's
 * request runs its dozen statements in one turn: SQLite then takes its locks once, and writes each
 * page it changed to the log once, where it did both for every statement.
 *
 * Every statement still sees every write made before it, in this process and (at the start of its
 * transaction) in others; the store's own multi-statement changes are better-sqlite3 transactions,
 * which become savepoints inside the turn's and stay all-or-nothing.
 */
export function turnTransactions(db: Database.Database): SqliteDatabase {
  let open: 'read' | 'write' | null = null;
  let scheduled = false;
  let writing = false;

  const commit = () => {
    openElsewhere.delete(commit);
    // A failed statement may have ended the transaction with it (SQLite does so on I/O errors).
    if (open !== null && db.inTransaction) db.exec('COMMIT');
    open = null;
  };
  const endOfTurn = () => {
    scheduled = false;
    commit();
  };
  const enter = (writes: boolean) => {
    if (open !== null && !db.inTransaction) open = null;
    if (open === 'write' || (open === 'read' && !writes)) return;
    for (const other of [...openElsewhere]) if (other !== commit) other();
    // A read transaction becomes a write transaction in place when the first write takes the lock:
    // `written` below starts it afresh only where SQLite refuses that.
    if (open === 'read') return;
    db.exec(writes ? 'BEGIN IMMEDIATE' : 'BEGIN');
    open = writes ? 'write' : 'read';
    openElsewhere.add(commit);
    if (!scheduled) {
      scheduled = true;
      setImmediate(endOfTurn);
    }
  };
  /**
   * Runs a write. In a turn that has only read so far, the write takes the lock itself; SQLite
   * refuses (SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT) when another connection holds the lock or wrote since
   * the turn's first read. The read transaction then ends, and the write runs again in one begun
   * afresh from the latest state, waiting for the lock as any write does. A refused statement, or
   * better-sqlite3 transaction, changed nothing.
   */
  const written = <T>(work: () => T): T => {
    // The statements of a better-sqlite3 transaction run inside its savepoint: only the outermost
    // write, the transaction, may end the turn's transaction and run again.
    if (open !== 'read' || writing) return work();
    writing = true;
    try {
      // The turn stays a read turn for what follows: a write that changed nothing (a transaction that
      // only read) took no lock, and the next write must be able to start afresh too.
      return work();
    } catch (error) {
      if (!isBusy(error)) throw error;
      writeAfresh();
      return work();
    } finally {
      writing = false;
    }
  };
  const writeAfresh = () => {
    if (db.inTransaction) db.exec('COMMIT');
    db.exec('BEGIN IMMEDIATE');
    open = 'write';
  };

  return {
    prepare<P extends unknown[], R>(sql: string): SqliteStatement<P, R> {
      const statement = db.prepare<P, R>(sql);
      const writes = !statement.readonly;
      return {
        run: (...params) => {
          enter(writes);
          return writes ? written(() => statement.run(...params)) : statement.run(...params);
        },
        get: (...params) => {
          enter(writes);
          return writes ? written(() => statement.get(...params)) : statement.get(...params);
        },
        all: (...params) => {
          enter(writes);
          return writes ? written(() => statement.all(...params)) : statement.all(...params);
        },
        iterate: (...params) => {
          enter(writes);
          // Its statement runs as it is iterated, outside `written`: a write takes the lock first.
          if (writes && open === 'read') writeAfresh();
          return statement.iterate(...params);
        },
      };
    },
    transaction<F extends (...args: any[]) => unknown>(fn: F): Database.Transaction<F> {
      const transaction = db.transaction(fn);
      const inWriteTransaction = (variant: (...args: never[]) => unknown) => (...args: never[]) => {
        enter(true);
        return written(() => variant(...args));
      };
      return Object.assign(inWriteTransaction(transaction), {
        default: inWriteTransaction(transaction.default),
        deferred: inWriteTransaction(transaction.deferred),
        immediate: inWriteTransaction(transaction.immediate),
        exclusive: inWriteTransaction(transaction.exclusive),
      }) as unknown as Database.Transaction<F>;
    },
    commit,
    close() {
      commit();
      db.close();
    },
  };
}
