// A query built and compiled once per dialect, then run with other values. Building a Kysely
// query and compiling it to SQL costs more than SQLite takes to run a lookup by key: of the contact
// profile's 39 µs (the 1M store) 15 went to the builder; compiled once it is 25. For the few
// queries every request runs; everything else builds its query where it runs it.
import { CompiledQuery } from 'kysely';
import type { Compilable } from 'kysely';
import { dialectOf } from './write-transaction.js';
import type { Tx } from './write-transaction.js';

type Slot = { readonly arg: number } | { readonly value: unknown };

/**
 * `build` receives stand-ins for its arguments and must use each only as a plain value (bound as
 * one parameter), never in a list or an expression of JavaScript. What it returns is the rows.
 */
export function reusableQuery<A extends readonly (string | number)[], R>(build: (db: Tx, ...args: A) => Compilable<R>): (db: Tx, ...args: A) => Promise<R[]> {
  const compiled = new Map<'sqlite' | 'postgres', { sql: string; slots: readonly Slot[] }>();
  return async (db, ...args) => {
    const dialect = dialectOf(db);
    let query = compiled.get(dialect);
    if (!query) {
      const standIns = args.map((_, i) => `\u0000reusable-query-argument-${i}`);
      const { sql, parameters } = build(db, ...(standIns as unknown as A)).compile();
      const slots = parameters.map((p): Slot => (typeof p === 'string' && standIns.includes(p) ? { arg: standIns.indexOf(p) } : { value: p }));
      if (standIns.some((s) => !parameters.includes(s))) throw new Error('reusableQuery: an argument was not bound as a parameter');
      compiled.set(dialect, (query = { sql, slots }));
    }
    const parameters = query.slots.map((s) => ('arg' in s ? args[s.arg] : s.value));
    return (await db.executeQuery<R>(CompiledQuery.raw(query.sql, parameters))).rows;
  };
}
