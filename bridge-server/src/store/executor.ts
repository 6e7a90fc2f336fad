import type { Kysely } from 'kysely';
import type { Tx } from '../core/ports.js';
import type { Database } from './schema.js';

/** A Kysely handle: the database itself or an open transaction. */
export type Executor = Kysely<Database>;

/** The store's transaction handle: what flows pass around, opaque to them. */
export interface SqlTx extends Tx {
  readonly db: Executor;
}

export const asSqlTx = (db: Executor): SqlTx => ({ isTransaction: true, db });

export function executorOf(tx: Tx): Executor {
  return (tx as SqlTx).db;
}
