// The SQL text and parameters the compiler writes, per dialect. The rows these expressions select
// are checked against the predicate in src/contacts/sql-evaluate.test.ts.
import {
  DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler,
  SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler,
} from 'kysely';
import { describe, expect, it } from 'vitest';
import { compileSql } from './compile-sql.js';
import type { SqlCompileContext } from './compile-sql.js';
import { STANDARD_ATTRIBUTES } from './schema.js';
import type { AttributeStorage, SqlColumnLayout, SqlDialectName } from './sql-layout.js';
import type { Schema } from './types.js';
import { validateOrThrow } from './validate.js';

// Kysely instances that only compile (no driver, no I/O).
const compilers: Record<SqlDialectName, Kysely<any>> = {
  sqlite: new Kysely<any>({
    dialect: {
      createAdapter: () => new SqliteAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new SqliteIntrospector(db),
      createQueryCompiler: () => new SqliteQueryCompiler(),
    },
  }),
  postgres: new Kysely<any>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  }),
};

const schema: Schema = [
  ...STANDARD_ATTRIBUTES,
  { key: 'plan', type: 'enum', options: ['Free', 'Pro'] },
  { key: 'mrr', type: 'number' },
];

// A hand-written layout: the compiler takes whatever the contacts layer assigns.
const columns: SqlColumnLayout = {
  storage: new Map<string, AttributeStorage>([
    ['name', { kind: 'column', column: 't2' }],
    ['plan', { kind: 'column', column: 't9' }],
    ['mrr', { kind: 'column', column: 'n1' }],
    ['last_interaction_at', { kind: 'column', column: 'd2' }],
    ['vip', { kind: 'column', column: 'b2' }],
    ['tags', { kind: 'list' }],
  ]),
};

const NOW = Date.parse('2025-03-10T12:00:00Z');

function compile(dialect: SqlDialectName, json: unknown, ctx: Partial<SqlCompileContext> = {}) {
  const condition = validateOrThrow(schema, json);
  const expr = compileSql(condition, { dialect, columns, timeZone: 'UTC', now: NOW, workspaceId: 'w1', ...ctx });
  const { sql, parameters } = expr.compile(compilers[dialect]);
  return { sql, parameters };
}

describe('compileSql: text', () => {
  it('compares the folded column with the folded operand, guarded so the rule is two-valued', () => {
    expect(compile('sqlite', { attr: 'name', op: 'eq', value: 'ÉLODIE' })).toEqual({
      sql: '("c"."t2" IS NOT NULL AND "c"."t2" = ?)', parameters: ['élodie'],
    });
    expect(compile('postgres', { attr: 'name', op: 'eq', value: 'ÉLODIE' })).toEqual({
      sql: '("c"."t2" IS NOT NULL AND "c"."t2" = $1::text)', parameters: ['élodie'],
    });
  });

  it('compiles a negative operator as NOT its positive twin', () => {
    expect(compile('sqlite', { attr: 'name', op: 'neq', value: 'Ann' })).toEqual({
      sql: '(NOT ("c"."t2" IS NOT NULL AND "c"."t2" = ?))', parameters: ['ann'],
    });
    expect(compile('postgres', { attr: 'name', op: 'not_contains', value: '%' }).sql).toBe(
      '(NOT ("c"."t2" IS NOT NULL AND strpos("c"."t2", $1::text) > 0))',
    );
  });

  it('never uses LIKE: contains, starts_with and ends_with take the value as plain text', () => {
    expect(compile('sqlite', { attr: 'name', op: 'contains', value: '50%_\\' })).toEqual({
      sql: '("c"."t2" IS NOT NULL AND instr("c"."t2", ?) > 0)', parameters: ['50%_\\'],
    });
    // SQLite compares UTF-8 bytes for prefixes and suffixes: 'é' is two bytes.
    expect(compile('sqlite', { attr: 'name', op: 'starts_with', value: 'É_' })).toEqual({
      sql: '("c"."t2" IS NOT NULL AND substr(CAST("c"."t2" AS BLOB), 1, ?) = CAST(? AS BLOB))', parameters: [3, 'é_'],
    });
    expect(compile('sqlite', { attr: 'name', op: 'ends_with', value: '%' })).toEqual({
      sql: '("c"."t2" IS NOT NULL AND substr(CAST("c"."t2" AS BLOB), -?) = CAST(? AS BLOB))', parameters: [1, '%'],
    });
    expect(compile('postgres', { attr: 'name', op: 'starts_with', value: 'a_' })).toEqual({
      sql: '("c"."t2" IS NOT NULL AND starts_with("c"."t2", $1::text))', parameters: ['a_'],
    });
    expect(compile('postgres', { attr: 'name', op: 'ends_with', value: '\\' })).toEqual({
      sql: '("c"."t2" IS NOT NULL AND right("c"."t2", length($1::text)) = $2::text)', parameters: ['\\', '\\'],
    });
    for (const dialect of ['sqlite', 'postgres'] as const) {
      for (const op of ['contains', 'starts_with', 'ends_with']) expect(compile(dialect, { attr: 'name', op, value: 'x' }).sql).not.toMatch(/like/i);
    }
  });

  it('binds a whole `in` array as one parameter, even with 10,000 elements', () => {
    const values = Array.from({ length: 10_000 }, (_, i) => `Name ${i}`);
    const lite = compile('sqlite', { attr: 'name', op: 'in', value: values });
    expect(lite.sql).toBe('("c"."t2" IS NOT NULL AND "c"."t2" IN (SELECT j.value FROM json_each(?) AS j))');
    expect(lite.parameters).toEqual([JSON.stringify(values.map((v) => v.toLowerCase()))]);
    const pg = compile('postgres', { attr: 'name', op: 'not_in', value: values });
    expect(pg.sql).toBe('(NOT ("c"."t2" IS NOT NULL AND "c"."t2" = ANY($1::text[])))');
    expect(pg.parameters).toEqual([values.map((v) => v.toLowerCase())]);
  });

  it('compares an enum like text, folded', () => {
    expect(compile('sqlite', { attr: 'plan', op: 'in', value: ['PRO', 'free'] }).parameters).toEqual(['["pro","free"]']);
  });

  it('is_empty is IS NULL; is_not_empty its complement', () => {
    expect(compile('sqlite', { attr: 'name', op: 'is_empty' }).sql).toBe('("c"."t2" IS NULL)');
    expect(compile('postgres', { attr: 'name', op: 'is_not_empty' }).sql).toBe('(NOT ("c"."t2" IS NULL))');
  });
});

describe('compileSql: numbers, dates, booleans', () => {
  it('numbers: comparisons, an inclusive between, and `in` as one array', () => {
    expect(compile('postgres', { attr: 'mrr', op: 'gt', value: 10.5 })).toEqual({
      sql: '("c"."n1" IS NOT NULL AND "c"."n1" > $1::float8)', parameters: [10.5],
    });
    expect(compile('sqlite', { attr: 'mrr', op: 'between', value: [1, 2] })).toEqual({
      sql: '("c"."n1" IS NOT NULL AND "c"."n1" >= ? AND "c"."n1" <= ?)', parameters: [1, 2],
    });
    expect(compile('sqlite', { attr: 'mrr', op: 'in', value: [1, 2.5] })).toEqual({
      sql: '("c"."n1" IS NOT NULL AND "c"."n1" IN (SELECT CAST(j.value AS REAL) FROM json_each(?) AS j))', parameters: ['[1,2.5]'],
    });
    expect(compile('postgres', { attr: 'mrr', op: 'in', value: [1, 2.5] })).toEqual({
      sql: '("c"."n1" IS NOT NULL AND "c"."n1" = ANY($1::float8[]))', parameters: [[1, 2.5]],
    });
  });

  it('a day is read in the workspace time zone, as an inclusive interval of UTC ms', () => {
    const ny = compile('postgres', { attr: 'last_interaction_at', op: 'eq', value: '2025-03-09' }, { timeZone: 'America/New_York' });
    expect(ny.sql).toBe('("c"."d2" IS NOT NULL AND "c"."d2" >= $1::bigint AND "c"."d2" <= $2::bigint)');
    // 9 March 2025 is the spring-forward day in New York: 23 hours, from 05:00Z to 04:00Z.
    expect(ny.parameters).toEqual([Date.parse('2025-03-09T05:00:00Z'), Date.parse('2025-03-10T04:00:00Z') - 1]);
    const kolkata = compile('sqlite', { attr: 'last_interaction_at', op: 'gt', value: '2025-03-09' }, { timeZone: 'Asia/Kolkata' });
    expect(kolkata).toEqual({ sql: '("c"."d2" IS NOT NULL AND "c"."d2" >= ?)', parameters: [Date.parse('2025-03-09T18:30:00Z')] });
  });

  it('relative dates are read against `now`; an infinite bound is left out', () => {
    expect(compile('sqlite', { attr: 'last_interaction_at', op: 'older_than', value: { amount: 30, unit: 'days' } })).toEqual({
      sql: '("c"."d2" IS NOT NULL AND "c"."d2" <= ?)', parameters: [NOW - 30 * 86_400_000 - 1],
    });
    expect(compile('postgres', { attr: 'last_interaction_at', op: 'within_last', value: { amount: 2, unit: 'hours' } }).parameters)
      .toEqual([NOW - 2 * 3_600_000, NOW]);
  });

  it('booleans are 0/1; a missing boolean is neither', () => {
    expect(compile('sqlite', { attr: 'vip', op: 'eq', value: false })).toEqual({
      sql: '("c"."b2" IS NOT NULL AND "c"."b2" = ?)', parameters: [0],
    });
    expect(compile('postgres', { attr: 'vip', op: 'neq', value: true })).toEqual({
      sql: '(NOT ("c"."b2" IS NOT NULL AND "c"."b2" = $1::bigint))', parameters: [1],
    });
  });
});

describe('compileSql: lists', () => {
  it('contains: the contact has a row with the folded element', () => {
    expect(compile('sqlite', { attr: 'tags', op: 'contains', value: 'VIP' })).toEqual({
      sql: '("c"."pk" IN (SELECT "lv"."contact_pk" FROM "contact_list_values" AS "lv" WHERE "lv"."workspace_id" = ? AND "lv"."attr" = ? AND "lv"."value" = ?))',
      parameters: ['w1', 'tags', 'vip'],
    });
  });

  it('in: one array parameter inside the subquery', () => {
    expect(compile('postgres', { attr: 'tags', op: 'in', value: ['A', 'b'] })).toEqual({
      sql: '("c"."pk" IN (SELECT "lv"."contact_pk" FROM "contact_list_values" AS "lv" WHERE "lv"."workspace_id" = $1::text AND "lv"."attr" = $2::text AND "lv"."value" = ANY($3::text[])))',
      parameters: ['w1', 'tags', ['a', 'b']],
    });
  });

  it('is_empty: no rows for the contact', () => {
    expect(compile('sqlite', { attr: 'tags', op: 'is_empty' })).toEqual({
      sql: '(NOT EXISTS (SELECT 1 FROM "contact_list_values" AS "lv" WHERE "lv"."workspace_id" = ? AND "lv"."attr" = ? AND "lv"."contact_pk" = "c"."pk"))',
      parameters: ['w1', 'tags'],
    });
  });
});

describe('compileSql: groups', () => {
  it('an empty all matches everyone, an empty any no one', () => {
    expect(compile('sqlite', { all: [] }).sql).toBe('(1 = 1)');
    expect(compile('postgres', { any: [] }).sql).toBe('(1 = 0)');
  });

  it('parenthesises every group, so precedence never matters', () => {
    const { sql, parameters } = compile('sqlite', {
      any: [{ all: [{ attr: 'vip', op: 'eq', value: true }, { not: { attr: 'mrr', op: 'lt', value: 5 } }] }, { attr: 'name', op: 'is_empty' }],
    });
    expect(sql).toBe('((("c"."b2" IS NOT NULL AND "c"."b2" = ?) AND (NOT ("c"."n1" IS NOT NULL AND "c"."n1" < ?))) OR ("c"."t2" IS NULL))');
    expect(parameters).toEqual([1, 5]);
  });

  it('uses the alias it is given', () => {
    expect(compile('sqlite', { attr: 'name', op: 'is_empty' }, { contactAlias: 'contact' }).sql).toBe('("contact"."t2" IS NULL)');
  });
});

describe('compileSql: refuses what it cannot compile safely', () => {
  it('a column that is not a slot of the right type', () => {
    const bad = (column: string, attr = 'name') => () => compileSql(validateOrThrow(schema, { attr, op: 'is_empty' }), {
      dialect: 'sqlite', timeZone: 'UTC', now: NOW, workspaceId: 'w1',
      columns: { storage: new Map([[attr, { kind: 'column', column }]]) },
    });
    expect(bad('t1; DROP TABLE contacts')).toThrow(/not a text slot/);
    expect(bad('n1')).toThrow(/not a text slot/);
    expect(bad('t1', 'tags')).toThrow(/list attribute "tags" is stored as column t1/);
  });

  it('an attribute the layout does not have', () => {
    expect(() => compileSql(validateOrThrow(schema, { attr: 'name', op: 'is_empty' }), {
      dialect: 'sqlite', timeZone: 'UTC', now: NOW, workspaceId: 'w1', columns: { storage: new Map() },
    })).toThrow(/"name" has no storage/);
  });

  it('an alias that is not a plain name', () => {
    expect(() => compile('sqlite', { all: [] }, { contactAlias: 'c" --' })).toThrow(/contactAlias/);
    expect(() => compile('sqlite', { all: [] }, { contactAlias: 'lv' })).toThrow(/contactAlias/);
  });
});
