// One small query interface over the two ways Conduit keeps its data: a PostgreSQL server through `pg`
// (DATABASE_URL), or an embedded PostgreSQL (PGlite) when nothing is installed. The monolith and the
// services run the same SQL on either.
import type { PGlite } from '@electric-sql/pglite';
import type { Pool, PoolClient } from 'pg';

/** Something that runs one parameterized statement and returns its rows. */
export interface Queryable {
  query<R extends object>(sql: string, params?: readonly unknown[]): Promise<R[]>;
}

/** The database Conduit talks to. */
export interface Database extends Queryable {
  /** `'postgres'` for a server reached through `pg`, `'pglite'` for the embedded one. */
  readonly kind: 'postgres' | 'pglite';
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /**
   * A PostgreSQL connection string (`postgres://user@host:5432/db`). Without it, an embedded PGlite
   * database is used (in memory unless `dataDir` is given).
   */
  url?: string;
  /** PGlite only: a directory that keeps the data between runs. Default: in memory. */
  dataDir?: string;
  /** pg only: the pool size. Default 10. */
  poolSize?: number;
}

/** Opens the database: `pg` when `url` is given, PGlite otherwise. */
export async function openDatabase(options: DatabaseOptions = {}): Promise<Database> {
  if (options.url !== undefined && options.url !== '')
    return openPostgres(options.url, options.poolSize ?? 10);
  return openPglite(options.dataDir);
}

async function openPostgres(url: string, max: number): Promise<Database> {
  const { default: pg } = await import('pg');
  const pool: Pool = new pg.Pool({ connectionString: url, max });
  // An idle client that loses its connection emits 'error' on the pool; without a listener that
  // would crash the process. The next query gets a fresh connection.
  pool.on('error', () => {});
  const on = (client: Pool | PoolClient): Queryable => ({
    async query<R extends object>(sql: string, params: readonly unknown[] = []) {
      return (await client.query<R>(sql, params as unknown[])).rows;
    },
  });
  const direct = on(pool);
  return {
    kind: 'postgres',
    query: direct.query,
    async transaction(work) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work(on(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

async function openPglite(dataDir: string | undefined): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  const db: PGlite = await PGlite.create(dataDir === undefined ? undefined : { dataDir });
  const on = (target: Pick<PGlite, 'query'>): Queryable => ({
    async query<R extends object>(sql: string, params: readonly unknown[] = []) {
      return (await target.query<R>(sql, params as unknown[])).rows;
    },
  });
  return {
    kind: 'pglite',
    query: on(db).query,
    transaction: (work) => db.transaction((tx) => work(on(tx))),
    close: () => db.close(),
  };
}
