// Members of a manual segment are added and removed by hand. Each change is an event, the count
// follows, and segments built on this one are re-evaluated for the contact in the same transaction.
import { prepareContact } from '../conditions/contact-values.js';
import type { StoredValues } from '../conditions/contact-values.js';
import { findContact } from '../contacts/contact-store.js';
import type { Database } from '../db/database.js';
import { writeTransaction } from '../db/write-transaction.js';
import { Conflict, NotFound } from '../errors.js';
import { CountDeltas, storedMembership, updateMembership, writeDiff } from './membership-writer.js';
import type { WorkspaceStates } from './workspace-state.js';

export interface ManualChange {
  readonly changed: readonly string[];
  readonly unknown: readonly string[];
}

export async function changeManualMembers(database: Database, states: WorkspaceStates, workspaceId: string, segmentId: string,
  contactIds: readonly string[], action: 'add' | 'remove', now = Date.now()): Promise<ManualChange> {
  return writeTransaction(database, async (tx) => {
    const state = await states.get(tx, workspaceId);
    const segment = state.byId.get(segmentId);
    if (!segment) throw new NotFound('segment', segmentId);
    if (segment.kind !== 'manual') throw new Conflict('segment_not_manual', `segment ${segmentId} is dynamic: its members follow its condition`);
    const changed: string[] = [], unknown: string[] = [];
    const counts = new CountDeltas();
    for (const id of new Set(contactIds)) {
      const contact = await findContact(tx, workspaceId, { id });
      if (!contact) { unknown.push(id); continue; }
      const stored = await storedMembership(tx, workspaceId, contact.pk);
      if ((action === 'add') === stored.has(segmentId)) continue;
      await writeDiff(tx, state, contact, stored.keys(), action === 'add' ? [segmentId] : [], action === 'remove' ? [segmentId] : [], now, counts);
      // Segments built on this one follow at once.
      await updateMembership(tx, state, contact, prepareContact(state.layout, contact.values as StoredValues), now, counts);
      changed.push(id);
    }
    await counts.flush(tx, workspaceId);
    return { changed, unknown };
  });
}
