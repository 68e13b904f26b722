// A preview count on a SQLite file is split over reader threads by pk range: it must equal the
// count of one query, for every kind of condition, and leave nothing running after close.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileSql } from '../conditions/compile-sql.js';
import { validateOrThrow } from '../conditions/validate.js';
import { createDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';
import { createWorkspace } from '../workspaces/workspace-store.js';
import { ContactWrites } from './contact-writes.js';
import { previewCount } from './preview.js';
import { WorkspaceStates } from './workspace-state.js';

const dir = mkdtempSync(join(tmpdir(), 'segments-preview-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('preview counts on a SQLite file', () => {
  it('equal the single-query count, split over the reader threads', async () => {
    const database = createDatabase({ dialect: 'sqlite', filename: join(dir, 'store.sqlite'), readerThreads: 3 });
    try {
      await migrateToLatest(database);
      const now = Date.parse('2025-11-03T14:30:00Z');
      await createWorkspace(database, { id: 'w', timeZone: 'Europe/Berlin' }, now);
      await createWorkspace(database, { id: 'other' }, now);
      const states = new WorkspaceStates();
      const writes = new ContactWrites(database, states, () => now);
      const rows = Array.from({ length: 997 }, (_, i) => ({
        id: `c${i}`, name: i % 5 === 0 ? 'Ana' : `Person ${i}`, tags: i % 3 === 0 ? ['vip'] : i % 7 === 0 ? [] : ['x', 'y'],
        last_interaction_at: i % 4 === 0 ? undefined : new Date(now - i * 3_600_000).toISOString(),
      }));
      await writes.writeBatch('w', rows);
      await writes.writeBatch('other', rows.slice(0, 300)); // another workspace's contacts interleave pks and must not count
      const state = await states.get(database.db, 'w');
      const conditions = [
        { attr: 'tags', op: 'contains', value: 'vip' },
        { not: { attr: 'tags', op: 'contains', value: 'vip' } },
        { attr: 'name', op: 'eq', value: 'ana' },
        { any: [{ attr: 'last_interaction_at', op: 'within_last', value: { amount: 10, unit: 'days' } }, { attr: 'tags', op: 'is_empty' }] },
        { attr: 'email', op: 'is_empty' },
      ];
      const readers = database.readers();
      expect(readers?.size).toBe(3);
      for (const json of conditions) {
        const condition = validateOrThrow(state.schema, json);
        const where = compileSql(condition, { dialect: 'sqlite', columns: state.columns, timeZone: state.timeZone, now, workspaceId: 'w' });
        const single = await database.db.selectFrom('contacts as c').select((eb) => eb.fn.countAll().as('n')).where('c.workspace_id', '=', 'w').where(where).executeTakeFirstOrThrow();
        expect(await previewCount(database, state, condition, now), JSON.stringify(json)).toBe(Number(single.n));
      }
    } finally {
      await database.close();
    }
  });
});
