import type { DataSource, EntityManager } from 'typeorm';

/**
 * Runs SQL and returns its rows. TypeORM's postgres driver answers UPDATE/DELETE statements with
 * `[rows, affectedCount]` instead of rows; every hot-path statement goes through here so callers
 * always get rows (including `UPDATE … RETURNING`).
 */
export async function queryRows<T = Record<string, any>>(
  db: DataSource | EntityManager,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const result: unknown = await db.query(text, params);
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') {
    return result[0] as T[];
  }
  return result as T[];
}

interface PgPool {
  query<T>(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: T[] }>;
}

/**
 * Runs a named statement: each pooled connection parses and plans it once, then only binds and executes.
 * For the per-batch statements of sending, whose planning (CTEs, joins) cost as much as their execution
 * (pg_stat_statements, docs/PERFORMANCE.md). `name` must be unique per statement text.
 */
export async function preparedRows<T = Record<string, any>>(db: DataSource, name: string, text: string, params: unknown[]): Promise<T[]> {
  const pool = (db.driver as unknown as { master: PgPool }).master;
  return (await pool.query<T>({ name, text, values: params })).rows;
}

/** SQL for an interval of `param` milliseconds (a placeholder such as `$5`, or an expression). */
export const msInterval = (param: string): string => `make_interval(secs => ${param} / 1000.0)`;
