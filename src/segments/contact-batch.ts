// A batch of contact writes in one transaction, with the statements of the batch, not of each row:
// the contacts a batch names are read in one query (locked on PostgreSQL), their memberships in
// another; the rows are then applied in order in memory, exactly as one write after another would
// (a later row sees an earlier one's contact, e-mail or external id); and what changed is written
// with multi-row statements. An import of 1M contacts is 1M rows through here (bench:import).
import { sql } from 'kysely';
import type { Compilable } from 'kysely';
import { prepareContact } from '../conditions/contact-values.js';
import type { PreparedContact, StoredValue, StoredValues } from '../conditions/contact-values.js';
import { fold } from '../conditions/fold.js';
import { EMAIL_COLUMN, EXTERNAL_ID_COLUMN } from '../contacts/attribute-store.js';
import { listValuesOf, slotValue, slotValuesOf } from '../contacts/contact-columns.js';
import { contactNamedBy, hasIdentityKey, noteCreatedContacts } from '../contacts/contact-keys.js';
import { readContactRecord } from '../contacts/contact-input.js';
import type { ContactInput } from '../contacts/contact-input.js';
import { newContactId } from '../contacts/contact-store.js';
import { DraftedRow, rowValues } from '../contacts/import/contact-sink.js';
import type { RowOutcome, SinkRow } from '../contacts/import/contact-sink.js';
import { insertRows } from '../db/bulk-insert.js';
import { PREPARED } from '../db/database.js';
import { reusableQuery } from '../db/reusable-query.js';
import { dialectOf } from '../db/write-transaction.js';
import type { Tx } from '../db/write-transaction.js';
import { CountDeltas, deleteMembers, evaluateSegments, postgresCountUpdate, stageBuilds } from './membership-writer.js';
import { EVENTS_PER_BLOCK, appendEvents, appendOneBlockStatement, eventOrderLockExpression, eventOrderTaken } from './event-feed.js';
import type { OutboxEvent } from './event-feed.js';
import { byContactWorkspace, changeOrderRows, foldMemberOrder, listChangedMembers } from './member-order.js';
import { lookupKey } from './new-contact-draft.js';
import type { NewContactDraft } from './new-contact-draft.js';
import type { WorkspaceState } from './workspace-state.js';

/** One contact the batch touches: as stored before the batch, and as the batch leaves it. */
interface Entry {
  /** The row's pk; for a contact the batch creates, a provisional one above every stored pk. */
  pk: number;
  readonly id: string;
  readonly isNew: boolean;
  readonly createdMs: number;
  values: Record<string, StoredValue>;
  version: number;
  changed: boolean;
  /** The attributes the batch set or removed (an update writes only their columns and lists). */
  readonly changedKeys: Set<string>;
  /** next_change_ms as stored (null: never), so an update rewrites its index entry only when it moves earlier (movesHorizon). */
  readonly storedNextChange: number | null;
  /** Segment ids: as stored before the batch, and as the batch leaves it. */
  readonly storedMembers: ReadonlySet<string>;
  readonly members: Set<string>;
  /** Segments the contact entered during the batch: their rows are (re)written with since = now. */
  readonly entered: Set<string>;
  prepared: PreparedContact | null;
  nextChange: number;
  /**
   * A new contact written from its draft (new-contact-draft.ts): its row, document and lists come
   * from there, and `values`, `prepared` are not kept — until a later row of the batch names it
   * (`undraft`).
   */
  draft?: NewContactDraft;
}

const IN_LIST = 400; // values per `IN (…)` list
const PROVISIONAL_PK = 2 ** 52;

const foldedKey = (values: Readonly<Record<string, StoredValue | null | undefined>>, key: string): string | undefined => {
  const value = values[key];
  return typeof value === 'string' ? fold(value) : undefined;
};

/** Contacts by a key (id, folded external id, folded e-mail), lowest pk first, as a lookup picks. */
class KeyIndex {
  private readonly map = new Map<string, Entry[]>();

  add(key: string | undefined, entry: Entry): void {
    if (key === undefined) return;
    const list = this.map.get(key);
    if (!list) { this.map.set(key, [entry]); return; }
    let at = list.length;
    while (at > 0 && list[at - 1].pk > entry.pk) at--;
    list.splice(at, 0, entry);
  }

  remove(key: string | undefined, entry: Entry): void {
    if (key === undefined) return;
    const list = this.map.get(key);
    const at = list ? list.indexOf(entry) : -1;
    if (at >= 0) list!.splice(at, 1);
  }

  first(key: string | undefined): Entry | undefined {
    return key === undefined ? undefined : this.map.get(key)?.[0];
  }

  /** The contact an upsert naming this e-mail or external id (`text`) writes to, of those whose key folds alike (contactNamedBy). */
  named(attribute: 'email' | 'external_id', text: string | undefined): Entry | undefined {
    const list = text === undefined ? undefined : this.map.get(fold(text));
    return list && contactNamedBy(list, attribute, text!, valuesOf);
  }
}

/** An entry's stored values; a drafted entry keeps them in its document until it is read again (undraft). */
const valuesOf = (entry: Entry): Readonly<Record<string, unknown>> => (entry.draft ? JSON.parse(entry.draft.document) as Record<string, unknown> : entry.values);

/** The row's draft, when it was drafted under this state's configuration at this `now` (new-contact-draft.ts). */
function usableDraft(state: WorkspaceState, row: SinkRow, now: number): NewContactDraft | undefined {
  if (!(row instanceof DraftedRow) || row.draft === undefined) return undefined;
  const draft = row.draft as NewContactDraft;
  return draft.configVersion === state.configVersion && draft.now === now ? draft : undefined;
}

const NO_VALUES: Record<string, StoredValue> = Object.freeze(Object.create(null) as Record<string, StoredValue>);

function draftedEntry(state: WorkspaceState, draft: NewContactDraft, pk: number, now: number): Entry {
  const memberIds = draft.members.map((i) => state.segments[i].id);
  return {
    pk, id: draft.id ?? newContactId(), isNew: true, createdMs: now, values: NO_VALUES, version: 1, changed: true,
    storedMembers: new Set(), members: new Set(memberIds), entered: new Set(memberIds), prepared: null,
    nextChange: draft.nextChange ?? Infinity, changedKeys: new Set(), storedNextChange: null, draft,
  };
}

/**
 * A drafted contact that a later row of the batch names: from here on it is an entry like any
 * other, its values those its draft wrote (the draft's JSON is exactly `values` as the row gave them).
 */
function undraft(state: WorkspaceState, entry: Entry): void {
  if (!entry.draft) return;
  entry.values = Object.assign(Object.create(null) as Record<string, StoredValue>, JSON.parse(entry.draft.document) as Record<string, StoredValue>);
  entry.prepared = prepareContact(state.layout, entry.values);
  entry.draft = undefined;
}

/** Of the rows a worker drafted: how many were written from their drafts, and how many read again here. */
export interface DraftTally { fromDraft: number; readAgain: number }

export async function writeContactBatch(tx: Tx, state: WorkspaceState, rows: ReadonlyArray<SinkRow>, now: number, counts: CountDeltas, tally?: DraftTally): Promise<RowOutcome[]> {
  const ws = state.workspaceId;
  const drafts = rows.map((row) => usableDraft(state, row, now));
  const inputs = rows.map((row, i) => (drafts[i] ? null : readContactRecord(state.layout, rowValues(row), state.timeZone)));
  const keys: { id?: string; externalId?: string; email?: string }[] = [];
  for (let i = 0; i < rows.length; i++) {
    const draft = drafts[i], input = inputs[i];
    if (draft) keys.push({ id: draft.id, externalId: draft.externalIdKey, email: draft.emailKey });
    else if (input!.errors.length === 0) keys.push({ id: input!.id, externalId: lookupKey(input!.externalId), email: lookupKey(input!.email) });
  }
  const entries = await readNamedContacts(tx, state, keys);
  const byId = new KeyIndex(), byExternalId = new KeyIndex(), byEmail = new KeyIndex();
  for (const e of entries) {
    byId.add(e.id, e);
    byExternalId.add(foldedKey(e.values, 'external_id'), e);
    byEmail.add(foldedKey(e.values, 'email'), e);
  }

  const events: OutboxEvent[] = [];
  const touched: Entry[] = [];
  // SQLite, a small batch: its member rows by contact only, and the counts with the segment
  // order's copy, both brought up to date by the fold (member-order.ts).
  const postgres = dialectOf(tx) === 'postgres';
  const deferred = !postgres && rows.length <= DEFERRED_UP_TO;
  const countsNow = deferred ? null : counts;
  let provisional = PROVISIONAL_PK;
  const outcomes: RowOutcome[] = [];
  for (let i = 0; i < rows.length; i++) {
    const draft = drafts[i];
    if (draft) {
      // A row that names no contact, stored or written earlier in the batch, is a new contact: it
      // is written as drafted (and found by its keys, as any new contact, by the rows after it).
      // A row that does name one is read here.
      const found = draft.id !== undefined ? byId.first(draft.id) : byExternalId.first(draft.externalIdKey) ?? byEmail.first(draft.emailKey);
      if (!found) {
        const entry = draftedEntry(state, draft, provisional++, now);
        byId.add(entry.id, entry);
        byExternalId.add(draft.externalIdKey, entry);
        byEmail.add(draft.emailKey, entry);
        touched.push(entry);
        for (const i of draft.members) {
          const s = state.segments[i];
          events.push({ type: 'segment.entered', segmentId: s.id, version: s.activeVersion, contactId: entry.id });
          countsNow?.add(s.id, 1);
        }
        outcomes.push({ status: 'created', id: entry.id });
        if (tally) tally.fromDraft++;
        continue;
      }
      inputs[i] = readContactRecord(state.layout, rowValues(rows[i]), state.timeZone);
    }
    if (tally && rows[i] instanceof DraftedRow) tally.readAgain++;
    const input = inputs[i] as ContactInput;
    if (input.errors.length > 0) { outcomes.push({ status: 'rejected', errors: input.errors }); continue; }
    const { externalId, email } = input;
    let entry = input.id !== undefined
      ? byId.first(input.id)
      : byExternalId.named('external_id', externalId) ?? byEmail.named('email', email);
    const isNew = entry === undefined;
    if (entry) undraft(state, entry);
    const merged: Record<string, StoredValue> = Object.assign(Object.create(null) as Record<string, StoredValue>, entry?.values);
    for (let k = 0; k < input.keys.length; k++) {
      const key = input.keys[k], value = input.values[k];
      if (value === null) delete merged[key]; else merged[key] = value;
    }
    if (entry && sameValues(entry.values, merged)) { outcomes.push({ status: 'unchanged', id: entry.id }); continue; }

    if (!entry) {
      entry = {
        pk: provisional++, id: input.id ?? newContactId(), isNew: true, createdMs: now, values: merged, version: 1, changed: true,
        storedMembers: new Set(), members: new Set(), entered: new Set(), prepared: null, nextChange: Infinity,
        changedKeys: new Set(), storedNextChange: null,
      };
      byId.add(entry.id, entry);
      touched.push(entry);
    } else {
      byExternalId.remove(foldedKey(entry.values, 'external_id'), entry);
      byEmail.remove(foldedKey(entry.values, 'email'), entry);
      entry.values = merged;
      entry.version += 1;
      for (const key of input.keys) entry.changedKeys.add(key);
      if (!entry.changed) { entry.changed = true; touched.push(entry); }
    }
    byExternalId.add(foldedKey(merged, 'external_id'), entry);
    byEmail.add(foldedKey(merged, 'email'), entry);

    // A new contact's input is its whole content, already prepared; an update is prepared from the merge.
    const prepared = isNew ? input.prepared : prepareContact(state.layout, merged);
    const current = entry.members;
    const { members, nextChange } = evaluateSegments(state, prepared, (s) => current.has(s.id), now);
    for (const s of state.segments) {
      if (s.kind !== 'dynamic' || s.active === null) continue;
      const was = current.has(s.id), is = members.has(s.id);
      if (was === is) continue;
      events.push({ type: is ? 'segment.entered' : 'segment.left', segmentId: s.id, version: s.activeVersion, contactId: entry.id });
      if (is) { current.add(s.id); entry.entered.add(s.id); } else current.delete(s.id);
      countsNow?.add(s.id, is ? 1 : -1);
    }
    entry.prepared = prepared;
    entry.nextChange = nextChange;
    outcomes.push({ status: isNew ? 'created' : 'updated', id: entry.id });
  }

  // PostgreSQL, a batch whose events fit one block (every single write): the member rows, the
  // block and the counts go in one statement, the event lock taken before it (see writeContacts).
  const oneStatement = postgres && events.length > 0 && events.length <= EVENTS_PER_BLOCK;
  let ready = false;
  if (touched.length > 0) {
    ready = await writeContacts(tx, state, touched, now, oneStatement);
    // New contacts too: SQLite gives a new row the highest pk + 1, which is a deleted contact's pk
    // when that one was the highest, and so can lie behind a scan that passed it.
    await stageBuilds(tx, state, touched.map((e) => (e.draft ? { pk: e.pk, meetsBuilding: e.draft.meetsBuilding } : { pk: e.pk, prepared: e.prepared!, memberIds: [...e.members] })), now);
  }
  if (oneStatement) {
    if (!ready) {
      await sql`select ${eventOrderLockExpression(ws)}, ${GENERIC_PLANS}`.execute(tx);
      eventOrderTaken(tx, ws);
    }
    await writeMembersEventsAndCounts(tx, ws, touched, events, now, counts);
    return outcomes;
  }
  if (touched.length > 0) await writeMembers(tx, ws, touched, now, deferred);
  // PostgreSQL: the counts go with the events, one round trip (the caller's flush then has none left).
  await appendEvents(tx, ws, events, now, postgres ? counts.takePostgresUpdate(ws) : null);
  return outcomes;
}

/**
 * Every stored contact a lookup of the batch could find (by id, folded external id or e-mail), with its
 * membership; locked until the transaction ends on PostgreSQL, so concurrent writers of one contact
 * are serialised. A contact that gains a key within the batch is one the batch already holds.
 */
type KeyColumn = 'id' | 't1' | 't5';
type NamedContactRow = { pk: number | string; id: string; attributes: string; version: number; created_ms: number | string; next_change_ms: number | string | null; member_ids?: string | null };

/** The contacts whose `column` is one of `values`, with (SQLite) their memberships or (PostgreSQL) locked; see readNamedContacts. */
function namedContacts(tx: Tx, ws: string, column: KeyColumn, values: readonly string[]): Compilable<NamedContactRow> {
  const all = tx.selectFrom('contacts as c').innerJoin('contact_documents as d', 'd.contact_pk', 'c.pk')
    .select(['c.pk', 'c.id', 'd.document as attributes', 'c.version', 'c.created_ms', 'c.next_change_ms']);
  const q = (column === 'id' ? all.where('c.workspace_id', '=', ws).where('c.id', values.length === 1 ? '=' : 'in', values.length === 1 ? values[0] : values)
    : all.where(hasIdentityKey(dialectOf(tx), 'c', ws, column, values))).orderBy('c.pk');
  if (dialectOf(tx) === 'postgres') return q.forUpdate();
  const memberIds = sql<string | null>`(select group_concat(m.segment_id, ',') from segment_members m where m.workspace_id = c.workspace_id and m.contact_pk = c.pk)`;
  return q.select(memberIds.as('member_ids'));
}

const contactByKey = Object.fromEntries((['id', EMAIL_COLUMN, EXTERNAL_ID_COLUMN] as KeyColumn[]).map((column) => [
  column, reusableQuery((tx: Tx, ws: string, value: string) => namedContacts(tx, ws, column, [value])),
])) as Record<KeyColumn, (tx: Tx, ws: string, value: string) => Promise<NamedContactRow[]>>;

async function readNamedContacts(tx: Tx, state: WorkspaceState, keys: ReadonlyArray<{ id?: string; externalId?: string; email?: string }>): Promise<Entry[]> {
  const ws = state.workspaceId;
  const ids = new Set<string>(), externalIds = new Set<string>(), emails = new Set<string>();
  for (const k of keys) {
    if (k.id !== undefined) ids.add(k.id);
    else if (k.externalId !== undefined) { externalIds.add(k.externalId); if (k.email !== undefined) emails.add(k.email); }
    else if (k.email !== undefined) emails.add(k.email);
  }
  const found = new Map<number, Entry>();
  const dialect = dialectOf(tx);
  // The memberships are read by the contact (byContactWorkspace), never in segment order, which
  // would walk every member. On SQLite they come with each contact, a list in one column (a
  // segment id, seg_ and hex digits, holds no comma): a single write's separate read of them was a
  // statement of its own (9 µs of bench:write's p50). On PostgreSQL they are read after the rows
  // are locked: a subquery beside FOR UPDATE keeps the snapshot from before a wait for another
  // writer's lock, and would read the memberships that writer has since replaced.
  const read = async (column: KeyColumn, values: readonly string[]) => {
    for (let i = 0; i < values.length; i += IN_LIST) {
      // One value (a single write): a query compiled once, not built anew (7–15 µs a write).
      const rows: NamedContactRow[] = values.length === 1
        ? await contactByKey[column](tx, ws, values[0])
        : (await tx.executeQuery(namedContacts(tx, ws, column, values.slice(i, i + IN_LIST)).compile())).rows;
      for (const r of rows) {
        const pk = Number(r.pk);
        if (found.has(pk)) continue;
        const members = r.member_ids ? r.member_ids.split(',') : [];
        found.set(pk, {
          pk, id: r.id, isNew: false, createdMs: Number(r.created_ms), values: JSON.parse(r.attributes) as Record<string, StoredValue>, version: r.version,
          changed: false, storedMembers: new Set(members), members: new Set(members), entered: new Set(), prepared: null, nextChange: Infinity,
          changedKeys: new Set(), storedNextChange: r.next_change_ms === null ? null : Number(r.next_change_ms),
        });
      }
    }
  };
  await read('id', [...ids]);
  await read(EXTERNAL_ID_COLUMN, [...externalIds]);
  await read(EMAIL_COLUMN, [...emails]);
  if (dialect === 'postgres') {
    const pks = [...found.keys()];
    for (let i = 0; i < pks.length; i += IN_LIST) {
      const rows = await tx.selectFrom('segment_members as m').select(['m.contact_pk', 'm.segment_id'])
        .where(byContactWorkspace(dialect, 'm.workspace_id'), '=', ws).where('m.contact_pk', 'in', pks.slice(i, i + IN_LIST)).execute();
      for (const r of rows) {
        const e = found.get(Number(r.contact_pk))!;
        (e.storedMembers as Set<string>).add(r.segment_id);
        e.members.add(r.segment_id);
      }
    }
  }
  return [...found.values()].sort((a, b) => a.pk - b.pk);
}

const FIXED_COLUMNS = ['id', 'version', 'created_ms', 'next_change_ms'] as const;

/**
 * A new contacts row from the entry's prepared values, in `[pk?, ...FIXED_COLUMNS, ...state.storage.columns]`
 * order (the workspace and updated_ms are the batch's: insertRows' `same`): every slot the layout
 * uses, NULL when missing; the pk first when the writer gives it.
 */
function contactTuple(state: WorkspaceState, e: Entry, withPk: boolean): unknown[] {
  const row: unknown[] = withPk ? [e.pk] : [];
  row.push(e.id, e.version, e.createdMs, Number.isFinite(e.nextChange) ? e.nextChange : null);
  for (const value of e.draft ? e.draft.slots : slotValuesOf(state.storage, e.prepared!)) row.push(value);
  return row;
}

/**
 * Whether an update rewrites the contact's stored horizon (next_change_ms). The stored one is a
 * lower bound, as the backfill's horizons are (backfill-horizons.ts): an update moves it earlier,
 * never later. A later horizon is found when the earlier one comes: the time refresh re-evaluates
 * the contact then (no change) and stores its exact horizon. Moving it later on every write would
 * rewrite its index entry, two leaves of a randomly ordered index, on most writes that set a date:
 * a support contact's last interaction moves later with each conversation, and with it "inactive
 * for 30 days" moves. A horizon already due is replaced, the write having just evaluated the
 * contact at `now`.
 */
function movesHorizon(stored: number | null, next: number, now: number): boolean {
  if (stored === null) return Number.isFinite(next);
  return next < stored || (stored <= now && next !== stored);
}

/** SQLite's next rowid: what an insert without a pk would be given. */
const highestPk = reusableQuery((tx: Tx) => tx.selectFrom('contacts').select((eb) => eb.fn.max('pk').as('pk')));

/**
 * The contact rows and list values: new contacts in multi-row inserts, updates one statement each.
 * `readyMembership` (PostgreSQL): the last document update also readies the transaction for the
 * membership statement (writeMembersEventsAndCounts) — it takes the workspace's event lock, which
 * that statement needs taken before its snapshot, and sets generic plans — a round trip fewer;
 * true when it did.
 */
async function writeContacts(tx: Tx, state: WorkspaceState, touched: Entry[], now: number, readyMembership = false): Promise<boolean> {
  let ready = false;
  const plan = state.storage;
  const columns = [...FIXED_COLUMNS, ...plan.columns];
  const same = { workspace_id: state.workspaceId, updated_ms: now };
  const created = touched.filter((e) => e.isNew);
  if (created.length > 0) {
    if (dialectOf(tx) === 'sqlite') {
      // Under the transaction's write lock (BEGIN IMMEDIATE) the pks SQLite would give are known:
      // given here, the insert needs no RETURNING (bench:import's statements replayed: the contacts
      // insert 12.7 → 9.5 µs a contact).
      const [{ pk: top }] = await highestPk(tx);
      created.forEach((e, i) => { e.pk = Number(top ?? 0) + 1 + i; });
      await insertRows(tx, 'contacts', ['pk', ...columns], created.map((e) => contactTuple(state, e, true)), { same });
      await noteCreatedContacts(tx, state.workspaceId, created.length);
    } else {
      const inserted = await insertRows(tx, 'contacts', columns, created.map((e) => contactTuple(state, e, false)), { same, returning: ['pk', 'id'] });
      const pkById = new Map(inserted.map((r) => [r.id as string, Number(r.pk)]));
      for (const e of created) e.pk = pkById.get(e.id)!;
    }
    await insertRows(tx, 'contact_documents', ['contact_pk', 'document'], created.map((e) => [e.pk, e.draft ? e.draft.document : JSON.stringify(e.values)]), { same: { workspace_id: state.workspaceId } });
  }
  // An update writes every slot column of the layout but the indexed ones it did not change (the
  // e-mail, the external id, next_change_ms: their index entries would be rewritten, a page each).
  // So the statement's text is one of eight per layout, and stays prepared: writing only the
  // changed columns made a text per set of changed attributes, prepared anew on most single
  // writes (bench:write: 0.18 s of prepares over 4,000 writes).
  const updated = touched.filter((e) => !e.isNew);
  for (const e of updated) {
    const changes: Record<string, unknown> = { version: e.version, updated_ms: now };
    if (movesHorizon(e.storedNextChange, e.nextChange, now)) changes.next_change_ms = Number.isFinite(e.nextChange) ? e.nextChange : null;
    for (let i = 0; i < plan.at.length; i++) {
      const column = plan.at[i];
      if (column === null || column === 'list') continue;
      if ((column === EMAIL_COLUMN || column === EXTERNAL_ID_COLUMN) && !e.changedKeys.has(state.layout.attributes[i].key)) continue;
      changes[column] = slotValue(e.prepared![i]);
    }
    await tx.updateTable('contacts').set(changes as never).where('pk', '=', e.pk).execute();
    const document = tx.updateTable('contact_documents').set({ document: JSON.stringify(e.values) }).where('contact_pk', '=', e.pk);
    if (readyMembership && e === updated[updated.length - 1]) {
      const locked = await document.returning([eventOrderLockExpression(state.workspaceId).as('event_order'), GENERIC_PLANS.as('plan_cache_mode')]).execute();
      if (locked.length === 1) {
        eventOrderTaken(tx, state.workspaceId);
        ready = true;
      }
    } else {
      await document.execute();
    }
  }
  // Lists are rewritten for the contacts whose lists changed (and written for new ones).
  const listChanged = (e: Entry) => e.isNew || plan.at.some((column, i) => column === 'list' && e.changedKeys.has(state.layout.attributes[i].key));
  const relisted = updated.filter(listChanged).map((e) => e.pk);
  for (let i = 0; i < relisted.length; i += 500) {
    await tx.deleteFrom('contact_list_values').where('contact_pk', 'in', relisted.slice(i, i + 500)).execute();
  }
  const listRows: unknown[][] = [];
  for (const e of touched.filter(listChanged)) {
    const lists = e.draft ? e.draft.lists : listValuesOf(plan, state.layout, e.prepared!);
    for (let i = 0; i < lists.length; i += 2) listRows.push([e.pk, lists[i], lists[i + 1]]);
  }
  await insertRows(tx, 'contact_list_values', ['contact_pk', 'attr', 'value'], listRows, { same: { workspace_id: state.workspaceId } });
  return ready;
}

/**
 * segment_members from the net change of each contact over the batch. SQLite: a `deferred` batch
 * (up to DEFERRED_UP_TO rows: the API's writes) leaves segment_member_order (and the counts) to
 * the fold, and lists its contacts; a bigger one (an import's) writes the copy too, after
 * folding, so that the copy is exact for the contacts it changes (member-order.ts).
 */
async function writeMembers(tx: Tx, ws: string, touched: Entry[], now: number, deferred: boolean): Promise<void> {
  if (dialectOf(tx) === 'postgres') return writeMembersInOneStatement(tx, ws, touched, now);
  if (!deferred) await foldMemberOrder(tx, ws);
  const inserts: [string, number][] = [];
  const removed: [string, number][] = [];
  const listed: { pk: number; before: Iterable<string> }[] = [];
  for (const e of touched) {
    // A row goes when the contact left the segment, and when it left and came back (its since moves).
    const gone: string[] = [];
    for (const segmentId of e.storedMembers) if (!e.members.has(segmentId) || e.entered.has(segmentId)) gone.push(segmentId);
    if (gone.length > 0) {
      await deleteMembers(tx, ws, e.pk, gone);
      for (const segmentId of gone) removed.push([segmentId, e.pk]);
    }
    const before = inserts.length;
    for (const segmentId of e.entered) if (e.members.has(segmentId)) inserts.push([segmentId, e.pk]);
    if (gone.length > 0 || inserts.length > before) listed.push({ pk: e.pk, before: e.storedMembers });
  }
  await insertRows(tx, 'segment_members', ['segment_id', 'contact_pk'], inserts, { same: { workspace_id: ws, since_ms: now } });
  if (deferred) return listChangedMembers(tx, ws, listed);
  await changeOrderRows(tx, ws, inserts, removed);
}

/**
 * SQLite: a batch of up to this many rows leaves segment_member_order and the counts to the fold
 * (writeMembers): a lone API write, or a group of a few, answered sooner. Bigger groups (a busy
 * server's, ~13 writes each at 16 connections) write both themselves: the fold does the same page
 * writes later and more besides, so it saves a lone write's wait, not the server's work (with 32,
 * bench:http's PATCHes ran 10–14% fewer a second).
 */
const DEFERRED_UP_TO = 4;

/**
 * PostgreSQL: the rest of the transaction runs prepared statements with their generic plan (set
 * with the statement before the membership statement, so only it, the COMMIT and, while a segment
 * is being rebuilt, the staging of its builds come after).
 * PostgreSQL's choice (`auto`) plans such a statement anew for each execution while that plan
 * costs less than the generic one, as it always does here: its values are arrays whose lengths a
 * plan built for them knows, and the one-row lookups the generic plan does are what any would do.
 * A generic plan is replanned when ANALYZE changes the tables' statistics.
 */
const GENERIC_PLANS = sql<string>`set_config('plan_cache_mode', 'force_generic_plan', true)`;

/** PostgreSQL: the batch's member rows that go and that come, as arrays (segment ids, contact pks). */
function memberChanges(touched: Entry[]) {
  const gone = { segments: [] as string[], contacts: [] as number[] };
  const added = { segments: [] as string[], contacts: [] as number[] };
  for (const e of touched) {
    for (const segmentId of e.storedMembers) if (!e.members.has(segmentId)) { gone.segments.push(segmentId); gone.contacts.push(e.pk); }
    for (const segmentId of e.entered) if (e.members.has(segmentId)) { added.segments.push(segmentId); added.contacts.push(e.pk); }
  }
  return { gone, added, none: gone.segments.length + added.segments.length === 0 };
}

/**
 * PostgreSQL: each statement is a round trip (0.15–0.5 ms), so the batch's member rows are deleted
 * and inserted by one. The parts of a statement run in no set order, so they touch different rows:
 * a contact that left a segment and came back in the batch keeps its row, and the insert moves
 * its since (on conflict). Empty arrays change nothing.
 */
function memberRowsParts(ws: string, { gone, added }: ReturnType<typeof memberChanges>, now: number) {
  return sql`gone as (
      delete from segment_members where workspace_id = ${ws}::text
        and (segment_id, contact_pk) in (select * from unnest(${gone.segments}::text[], ${gone.contacts}::bigint[]))
    ), added as (
      insert into segment_members (workspace_id, segment_id, contact_pk, since_ms)
        select ${ws}::text, segment_id, contact_pk, ${now}::bigint from unnest(${added.segments}::text[], ${added.contacts}::bigint[]) as a(segment_id, contact_pk)
        on conflict (workspace_id, segment_id, contact_pk) do update set since_ms = excluded.since_ms
    )`;
}

/** PostgreSQL, a batch of many events: the member rows in a statement that also takes the event lock the events' blocks then need. */
async function writeMembersInOneStatement(tx: Tx, ws: string, touched: Entry[], now: number): Promise<void> {
  const changes = memberChanges(touched);
  if (changes.none) return;
  await sql`with ${memberRowsParts(ws, changes, now)} select ${eventOrderLockExpression(ws)}`.execute(tx);
  eventOrderTaken(tx, ws);
}

/**
 * PostgreSQL, events that fit one block (every single write): the member rows, the block and the
 * count update in one statement. The event lock is held already, so the statement's snapshot, from
 * which the block reads the feed's end, comes after it; the count update waits for its rows
 * itself. Its text is the same for every write (every part is there, its rows in arrays), so it
 * is prepared once per connection (PREPARED, database.ts), and run with its generic plan
 * (GENERIC_PLANS): planned for each write's values it took 0.36 ms at p50 to plan, 0.25 ms to
 * run, more than the round trip it saves.
 */
async function writeMembersEventsAndCounts(tx: Tx, ws: string, touched: Entry[], events: readonly OutboxEvent[], now: number, counts: CountDeltas): Promise<void> {
  const { ids, deltas } = counts.take();
  await sql`${sql.raw(PREPARED)}with ${memberRowsParts(ws, memberChanges(touched), now)},
    appended as (${appendOneBlockStatement(ws, events, now)}),
    counted as (${postgresCountUpdate(ws, ids, deltas)})
    select 1`.execute(tx);
}

function sameValues(a: StoredValues, b: StoredValues): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) return false;
  return true;
}
