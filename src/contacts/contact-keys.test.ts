// Upserts by e-mail and external id find the contact the contract names — of those with that key,
// folded, the first created with exactly that key, else the first created — through random creations, key changes, removals, deletes and (on
// SQLite) merges of the recent tier; and SQLite's two tiers hold exactly the contacts' keys.
import fc from 'fast-check';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { fold } from '../conditions/fold.js';
import type { Dialect } from '../db/database.js';
import { postgresTestUrl } from '../db/test-support/postgres.js';
import { writeTransaction } from '../db/write-transaction.js';
import { openEngine } from '../segments/test-support/engine.js';
import type { TestEngine } from '../segments/test-support/engine.js';
import { verifyWorkspace } from '../segments/verify.js';
import { createWorkspace } from '../workspaces/workspace-store.js';
import { MERGE_AFTER, keyDifferences, mergeContactKeys, noteCreatedContacts } from './contact-keys.js';
import { findContact } from './contact-store.js';

const pgUrl = await postgresTestUrl();

const EMAILS = ['ana@x.io', 'ANA@x.io', 'bo@x.io', ' ', 'ß@x.io'];
const EXTERNAL_IDS = ['e-1', 'E-1', 'e-2', ''];
const IDS = ['c1', 'c2', 'c3', 'c4', 'c5'];

type Op =
  | { readonly t: 'write'; readonly id: string; readonly email?: string | null; readonly external_id?: string | null }
  | { readonly t: 'upsertBy'; readonly by: 'email' | 'external_id'; readonly value: string }
  | { readonly t: 'delete'; readonly id: string }
  | { readonly t: 'merge' };

const maybe = <T>(values: readonly T[]) => fc.option(fc.constantFrom(...values, null), { nil: undefined });
const arbitraryOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ id: fc.constantFrom(...IDS), email: maybe(EMAILS), external_id: maybe(EXTERNAL_IDS) }).map((r): Op => ({ t: 'write', ...r })) },
  { weight: 3, arbitrary: fc.oneof(
    fc.constantFrom(...EMAILS).map((value): Op => ({ t: 'upsertBy', by: 'email', value })),
    fc.constantFrom(...EXTERNAL_IDS).map((value): Op => ({ t: 'upsertBy', by: 'external_id', value })),
  ) },
  { weight: 2, arbitrary: fc.constantFrom(...IDS).map((id): Op => ({ t: 'delete', id })) },
  { weight: 1, arbitrary: fc.constant<Op>({ t: 'merge' }) },
);

/** The model: contacts in creation order with their keys as written (undefined: none). */
interface ModelContact { id: string; email?: string; external_id?: string }

/** The contract's contact for a key: of those whose key folds to the same, the first created whose key is exactly it, else the first created. */
function expectedFor(model: readonly ModelContact[], by: 'email' | 'external_id', value: string): string | null {
  if (value.trim() === '') return null;
  const folded = model.filter((c) => c[by] !== undefined && c[by]!.trim() !== '' && fold(c[by]!) === fold(value));
  return (folded.find((c) => c[by] === value) ?? folded[0])?.id ?? null;
}

async function run(e: TestEngine, ops: readonly Op[]): Promise<void> {
  const ws = e.workspaceId;
  const model: ModelContact[] = [];
  const log: string[] = [];
  for (const op of ops) {
    log.push(JSON.stringify(op));
    const context = () => log.join('\n');
    if (op.t === 'write') {
      const row: Record<string, unknown> = { id: op.id };
      if (op.email !== undefined) row.email = op.email;
      if (op.external_id !== undefined) row.external_id = op.external_id;
      const outcome = await e.writes.writeOne(ws, row);
      expect(outcome.status, context()).not.toBe('rejected');
      let c = model.find((m) => m.id === op.id);
      if (!c) model.push((c = { id: op.id }));
      for (const key of ['email', 'external_id'] as const) {
        const value = row[key] as string | null | undefined;
        if (value === null || (typeof value === 'string' && value.trim() === '')) delete c[key];
        else if (value !== undefined) c[key] = value;
      }
    } else if (op.t === 'upsertBy') {
      // A row keyed by the e-mail or external id alone: it updates the contract's contact, or creates one.
      const want = expectedFor(model, op.by, op.value);
      const found = await writeTransaction(e.database, (tx) => findContact(tx, ws, op.by === 'email' ? { email: op.value } : { externalId: op.value }));
      expect(found?.id ?? null, context()).toBe(want);
      const outcome = await e.writes.writeOne(ws, { [op.by]: op.value, name: `n${log.length}` });
      expect(outcome.status, context()).not.toBe('rejected');
      if (outcome.status === 'rejected') return;
      if (want !== null) {
        expect(outcome.id, context()).toBe(want);
        model.find((m) => m.id === want)![op.by] = op.value; // the key as the row writes it
      } else if (op.value.trim() !== '') {
        expect(outcome.status, context()).toBe('created');
        model.push({ id: outcome.id, [op.by]: op.value });
      } else {
        model.push({ id: outcome.id });
      }
    } else if (op.t === 'delete') {
      const at = model.findIndex((m) => m.id === op.id);
      if (at < 0) continue;
      await e.writes.delete(ws, op.id);
      model.splice(at, 1);
    } else {
      await writeTransaction(e.database, (tx) => mergeContactKeys(tx, ws));
      if (e.database.dialect === 'sqlite') {
        expect(await e.database.db.selectFrom('contact_keys_recent').select('key').execute(), context()).toEqual([]);
      }
    }
    expect(await writeTransaction(e.database, (tx) => keyDifferences(tx, ws)), context()).toEqual([]);
  }
  // Every key of the model finds its contact, whichever tier holds it.
  for (const by of ['email', 'external_id'] as const) {
    for (const value of by === 'email' ? EMAILS : EXTERNAL_IDS) {
      const found = await writeTransaction(e.database, (tx) => findContact(tx, ws, by === 'email' ? { email: value } : { externalId: value }));
      expect(found?.id ?? null, `${log.join('\n')}\n${by} ${value}`).toBe(expectedFor(model, by, value));
    }
  }
}

describe.each<Dialect>(['sqlite', 'postgres'])('contact keys on %s', (dialect) => {
  const skip = dialect === 'postgres' && pgUrl === null;

  it.skipIf(skip)('random writes, key changes, deletes and merges: upserts by e-mail and external id find the contract\'s contact', async () => {
    await fc.assert(fc.asyncProperty(fc.array(arbitraryOp, { minLength: 1, maxLength: 25 }), async (ops) => {
      const e = await openEngine(dialect, pgUrl);
      try {
        await run(e, ops);
      } finally {
        await e.close();
      }
    }), { numRuns: dialect === 'sqlite' ? 60 : 15, interruptAfterTimeLimit: 20_000 });
  }, 60_000);
});

describe('contact keys on SQLite', () => {
  it('a lookup by e-mail reads the tiers by their key and the contacts by pk, not the workspace\'s contacts', async () => {
    const e = await openEngine('sqlite', null);
    try {
      await e.writes.writeOne(e.workspaceId, { id: 'a', email: 'a@x.io' });
      const details: string[] = [];
      const { sqlite } = e.database as unknown as { sqlite: { prepare(s: string): { all(...p: unknown[]): Array<{ detail: string }> } } };
      const { hasIdentityKey } = await import('./contact-keys.js');
      const q = e.database.db.selectFrom('contacts as c').select('c.id').where(hasIdentityKey('sqlite', 'c', e.workspaceId, 't1', ['a@x.io'])).compile();
      for (const r of sqlite.prepare(`explain query plan ${q.sql}`).all(...q.parameters)) details.push(r.detail);
      expect(details).toContain('SEARCH c USING INTEGER PRIMARY KEY (rowid=?)');
      expect(details).toContain('SEARCH contact_keys USING PRIMARY KEY (workspace_id=? AND kind=? AND key=?)');
      expect(details).toContain('SEARCH contact_keys_recent USING PRIMARY KEY (workspace_id=? AND kind=? AND key=?)');
    } finally {
      await e.close();
    }
  });

  it(`merges the recent tier once ${MERGE_AFTER} contacts were created in the process, counting what an earlier process left`, async () => {
    const e = await openEngine('sqlite', null);
    // A workspace of its own: the count since the last merge is the process's, by workspace id.
    const ws = 'merging';
    await createWorkspace(e.database, { id: ws }, e.clock.now);
    const tiers = async () => (await sql<{ main: number; recent: number }>`select (select count(*) from contact_keys) as main, (select count(*) from contact_keys_recent) as recent`.execute(e.database.db)).rows[0];
    try {
      // The first writes of the process count the tier as they find it, then add what they create.
      await e.writes.writeOne(ws, { id: 'a', email: 'a@x.io', external_id: 'A' });
      await e.writes.writeOne(ws, { id: 'b', email: 'b@x.io' });
      expect(await tiers()).toEqual({ main: 0, recent: 3 });
      await writeTransaction(e.database, (tx) => noteCreatedContacts(tx, ws, MERGE_AFTER - 3));
      expect(await tiers()).toEqual({ main: 0, recent: 3 });
      await e.writes.writeOne(ws, { id: 'c', email: 'c@x.io' });
      expect(await tiers()).toEqual({ main: 4, recent: 0 });
      await e.writes.writeOne(ws, { id: 'd', external_id: 'D' });
      expect(await tiers()).toEqual({ main: 4, recent: 1 });
      expect(await verifyWorkspace(e.database, e.states, ws, e.clock.now)).toEqual([]);
    } finally {
      await e.close();
    }
  });

  it('verify reports a key the tiers lack and one they hold for nobody', async () => {
    const e = await openEngine('sqlite', null);
    const ws = e.workspaceId;
    try {
      await e.writes.writeOne(ws, { id: 'a', email: 'A@x.io' });
      await e.writes.writeOne(ws, { id: 'b', external_id: 'B-1' });
      await writeTransaction(e.database, (tx) => mergeContactKeys(tx, ws));
      await sql`delete from contact_keys where key = 'a@x.io'`.execute(e.database.db);
      await sql`insert into contact_keys_recent values (${ws}, 2, 'ghost', 99)`.execute(e.database.db);
      const differences = await verifyWorkspace(e.database, e.states, ws, e.clock.now);
      expect(differences.map((d) => [d.kind, d.contactId, d.detail])).toEqual([
        ['lookup_key', 'a', 'its e-mail "a@x.io" is missing from the lookup keys: upserts by it would not find it'],
        ['lookup_key', '(pk 99, not stored)', 'the lookup keys hold the external id "ghost" for it, which it does not have'],
      ]);
    } finally {
      await e.close();
    }
  });
});
