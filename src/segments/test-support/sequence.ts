// Random sequences of what happens to a workspace — contact writes and deletes, segment
// creations, edits and deletions, manual members, backfills run part-way, the clock moving — run
// against the engine and against a model written from the contract (not from the engine's code):
// contacts merged by the ingest rules, membership computed by the reference interpreter of
// conditions over the model's contacts. After every step the store must agree with itself
// (membership-checks.ts) and with the model.
import fc from 'fast-check';
import { expect } from 'vitest';
import type { StoredValue } from '../../conditions/contact-values.js';
import { BLANK_TEXTS, arbitraryCondition, arbitraryRule, arbitrarySchema, foldEqualSpellings, spellings } from '../../conditions/test-support/arbitraries.js';
import type { ValuePool } from '../../conditions/test-support/arbitraries.js';
import { UNIT_MS, contractFold } from '../../conditions/test-support/contract.js';
import { referenceDayStart, referenceMatches } from '../../conditions/test-support/reference.js';
import { STANDARD_ATTRIBUTES } from '../../conditions/schema.js';
import type { AttributeDef, ConditionJson, Operator, Schema } from '../../conditions/types.js';
import { createAttribute } from '../../contacts/attribute-store.js';
import { writeTransaction } from '../../db/write-transaction.js';
import { runBackfills, runBatch } from '../backfill.js';
import { readEvents } from '../event-feed.js';
import { changeManualMembers } from '../manual-members.js';
import { foldAllMemberOrders } from '../member-order.js';
import { createSegment, deleteSegment, updateSegment } from '../segment-store.js';
import { refreshDue } from '../time-refresh.js';
import { checkStore, compareMembership, storedMembership } from './membership-checks.js';
import type { Membership } from './membership-checks.js';
import type { TestEngine } from './engine.js';

// ---- steps ------------------------------------------------------------------------------------

/** A value as a write sends it; `relative` is an instant this many ms from the clock when the step runs. */
export type ValueSpec = { readonly raw: unknown } | { readonly relative: number };

export interface RowSpec {
  /** How the row names its contact: by id, external_id, email, or not at all (a new contact). */
  readonly key: { readonly id: string } | { readonly external_id: string } | { readonly email: string } | Record<string, never>;
  readonly fields: ReadonlyArray<readonly [string, ValueSpec]>;
  /** A field no write may carry: the row is rejected and writes nothing. */
  readonly bad?: 'number' | 'segments' | 'unknown';
}

/**
 * A condition with holes for segment ids: a rule on `segments` whose value is `{ "$segment": k }`
 * (or an array of them) names the k-th segment that exists when the step runs.
 */
export type DefinitionSpec = unknown;

export type Step =
  /** `concurrent`: each row as a single write (`writeOne`), all at once: they commit as one group, in order. */
  | { readonly t: 'write'; readonly rows: readonly RowSpec[]; readonly concurrent?: boolean }
  | { readonly t: 'delete'; readonly contact: number }
  | { readonly t: 'create'; readonly name: string; readonly definition: DefinitionSpec }
  | { readonly t: 'createManual'; readonly name: string }
  | { readonly t: 'update'; readonly segment: number; readonly name?: string; readonly definition?: DefinitionSpec }
  | { readonly t: 'deleteSegment'; readonly segment: number }
  | { readonly t: 'manual'; readonly segment: number; readonly action: 'add' | 'remove'; readonly contacts: readonly number[] }
  /** `batches`: that many runBatch calls on the oldest pending jobs, or every job to the end. */
  | { readonly t: 'backfill'; readonly batches: number | 'all'; readonly batchSize: number }
  /** The clock moves forward by `by` ms, or to the earliest stored horizon plus `toHorizon` ms; then the time refresh runs. */
  | { readonly t: 'clock'; readonly by?: number; readonly toHorizon?: number }
  /** The segment order's fold (member-order.ts), as `segments serve` runs it every second. */
  | { readonly t: 'fold' };

export interface Scenario {
  readonly pool: ValuePool;
  /** Custom attributes, created before the first step. */
  readonly custom: readonly AttributeDef[];
  readonly steps: readonly Step[];
}

const CONTACT_IDS = ['c1', 'c2', 'c3', 'c4', 'C1', 'c5'];
const EXTERNAL_IDS = ['X-1', 'x-1', 'X-2', 'Ｘ-2'];
const EMAILS = ['ana@acme.io', 'ANA@Acme.io', 'bo@acme.io', 'ﬁ@acme.io', 'fi@acme.io'];
// Names that fold alike (VIP, vip, Ｖｉｐ) and names that do not (Straße, STRASSE), among many distinct ones.
const SEGMENT_NAMES = ['VIP', 'vip', 'Ｖｉｐ', 'Straße', 'STRASSE', ...Array.from({ length: 16 }, (_, i) => `Segment ${i}`)];
/** Attributes most writes and rules use, so that definitions and contacts meet. */
const HOT_STANDARD = new Set(['tags', 'last_interaction_at', 'email', 'vip', 'platform']);
export const hotAttributes = (schema: Schema): Schema => schema.filter((a) => HOT_STANDARD.has(a.key) || !STANDARD_ATTRIBUTES.some((s) => s.key === a.key));
export const UNKNOWN_KEY = 'not_in_schema_attr';
const DAY = 86_400_000;

function arbitraryValue(def: AttributeDef, pool: ValuePool): fc.Arbitrary<ValueSpec> {
  const raw = (a: fc.Arbitrary<unknown>) => a.map((v): ValueSpec => ({ raw: v }));
  const text = fc.constantFrom(...pool.texts).chain((t) => fc.constantFrom(...spellings(t)));
  const present: fc.Arbitrary<ValueSpec> = (() => {
    switch (def.key) { // identity attributes: values that make upserts by external_id and email meet
      case 'external_id': return raw(fc.constantFrom(...EXTERNAL_IDS));
      case 'email': return raw(fc.constantFrom(...EMAILS));
    }
    switch (def.type) {
      case 'text': return raw(fc.oneof({ weight: 5, arbitrary: text }, { weight: 1, arbitrary: fc.constantFrom(...BLANK_TEXTS) }));
      case 'enum': return raw(fc.oneof(
        { weight: 5, arbitrary: fc.constantFrom(...def.options!).chain((o) => fc.constantFrom(...foldEqualSpellings(o))) },
        { weight: 1, arbitrary: fc.constantFrom('', ' ') }, // blank: missing, so a removal
      ));
      case 'number': return raw(fc.oneof(
        fc.constantFrom(...pool.numbers),
        // as a text where it is one a decimal reader gives back exactly (a filter here could reject every number)
        fc.constantFrom(...pool.numbers).map((n) => (Number.isInteger(n) && Math.abs(n) < 1e15 ? ` ${n}` : n)),
        fc.constant(''), // "" is missing, never 0
      ));
      case 'boolean': return raw(fc.constantFrom(true, false, 'yes', 'No', '1', '0', 1, 0));
      case 'date': return fc.oneof(
        { weight: 2, arbitrary: fc.constantFrom(...pool.instants).map((ms): ValueSpec => ({ raw: new Date(ms).toISOString() })) },
        { weight: 1, arbitrary: fc.constantFrom(...pool.days).map((d): ValueSpec => ({ raw: d })) },
        { // near the clock as it will be: one side or the other of a relative rule's edge
          weight: 3,
          arbitrary: fc.tuple(fc.constantFrom(...pool.spans), fc.constantFrom(-1, 1), fc.constantFrom(-1, 0, 1), fc.integer({ min: 0, max: 2 }))
            .map(([s, sign, nudge, k]): ValueSpec => ({ relative: sign * Math.min(s.amount * UNIT_MS[s.unit], 400 * DAY) * (k === 2 ? 0.5 : 1) + nudge })),
        },
      );
      case 'list': return raw(fc.oneof(
        { weight: 4, arbitrary: fc.array(text, { maxLength: 3 }) },
        { weight: 1, arbitrary: fc.constantFrom([' '], ['', 'vip']) },
      ));
    }
  })();
  return fc.oneof({ weight: 5, arbitrary: present }, { weight: 1, arbitrary: fc.constant<ValueSpec>({ raw: null }) });
}

export function arbitraryRow(schema: Schema, pool: ValuePool): fc.Arbitrary<RowSpec> {
  const key = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...CONTACT_IDS).map((id) => ({ id })) },
    { weight: 2, arbitrary: fc.constantFrom(...EXTERNAL_IDS).map((external_id) => ({ external_id })) },
    { weight: 2, arbitrary: fc.constantFrom(...EMAILS).map((email) => ({ email })) },
    { weight: 1, arbitrary: fc.constant({} as Record<string, never>) },
  );
  const hot = hotAttributes(schema);
  const field = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...hot) }, { weight: 1, arbitrary: fc.constantFrom(...schema) })
    .chain((def) => arbitraryValue(def, pool).map((v) => [def.key, v] as const));
  return fc.record({
    key,
    fields: fc.uniqueArray(field, { maxLength: 5, selector: ([k]) => k }),
    bad: fc.oneof({ weight: 12, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom('number' as const, 'segments' as const, 'unknown' as const) }),
  }).map((r) => (r.bad === undefined ? { key: r.key, fields: r.fields } : r));
}

const SEGMENT_OPS: readonly Operator[] = ['contains', 'not_contains', 'in', 'not_in'];

/** A rule on `segments` naming segments by their position when the step runs. */
const arbitrarySegmentRule: fc.Arbitrary<unknown> = fc.tuple(fc.constantFrom(...SEGMENT_OPS), fc.array(fc.nat(7), { minLength: 1, maxLength: 2 }))
  .map(([op, ks]) => ({ attr: 'segments', op, value: op === 'in' || op === 'not_in' ? ks.map((k) => ({ $segment: k })) : { $segment: ks[0] } }));

function arbitraryRelativeRule(schema: Schema, pool: ValuePool): fc.Arbitrary<unknown> {
  const dates = schema.filter((a) => a.type === 'date');
  return fc.tuple(fc.constantFrom(...dates), fc.constantFrom('within_last', 'older_than', 'within_next'), fc.constantFrom(...pool.spans))
    .map(([def, op, span]) => ({ attr: def.key, op, value: span }));
}

/** Mostly short definitions over the attributes writes use (so memberships are not all empty), some deep ones over any. */
export function arbitraryDefinition(schema: Schema, pool: ValuePool): fc.Arbitrary<DefinitionSpec> {
  const rule = arbitraryRule(hotAttributes(schema), pool);
  const deep = arbitraryCondition(schema, pool, { maxDepth: 3 });
  const relative = arbitraryRelativeRule(schema, pool);
  const part = fc.oneof({ weight: 3, arbitrary: rule }, { weight: 2, arbitrary: relative }, { weight: 2, arbitrary: arbitrarySegmentRule });
  return fc.oneof(
    { weight: 4, arbitrary: rule },
    { weight: 3, arbitrary: relative },
    { weight: 2, arbitrary: arbitrarySegmentRule },
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom('all', 'any'), fc.array(part, { minLength: 2, maxLength: 3 })).map(([g, c]) => ({ [g]: c })) },
    { weight: 1, arbitrary: part.map((c) => ({ not: c })) },
    { weight: 1, arbitrary: deep },
  );
}

export function arbitraryStep(schema: Schema, pool: ValuePool): fc.Arbitrary<Step> {
  const definition = arbitraryDefinition(schema, pool);
  const name = fc.constantFrom(...SEGMENT_NAMES);
  const spans = pool.spans.map((s) => s.amount * UNIT_MS[s.unit]).filter((ms) => ms <= 400 * DAY);
  return fc.oneof(
    // Up to 4 rows a batch leave the segment order to the fold on SQLite; more write it themselves (contact-batch.ts).
    { weight: 10, arbitrary: fc.tuple(fc.array(arbitraryRow(schema, pool), { minLength: 1, maxLength: 3 }), fc.boolean()).map(([rows, concurrent]): Step => ({ t: 'write', rows, concurrent })) },
    { weight: 2, arbitrary: fc.array(arbitraryRow(schema, pool), { minLength: 5, maxLength: 7 }).map((rows): Step => ({ t: 'write', rows })) },
    { weight: 2, arbitrary: fc.constant<Step>({ t: 'fold' }) },
    { weight: 3, arbitrary: fc.integer({ min: -1, max: 7 }).map((contact): Step => ({ t: 'delete', contact })) },
    { weight: 4, arbitrary: fc.record({ name, definition }).map((r): Step => ({ t: 'create', ...r })) },
    { weight: 2, arbitrary: name.map((n): Step => ({ t: 'createManual', name: n })) },
    {
      weight: 3,
      arbitrary: fc.record({ segment: fc.nat(7), name: fc.option(name, { nil: undefined }), definition: fc.option(definition, { nil: undefined, freq: 4 }) })
        .map(({ segment, name: n, definition: d }): Step => ({ t: 'update', segment, ...(n === undefined ? {} : { name: n }), ...(d === undefined ? {} : { definition: d }) })),
    },
    { weight: 1, arbitrary: fc.nat(7).map((segment): Step => ({ t: 'deleteSegment', segment })) },
    {
      weight: 2,
      arbitrary: fc.record({ segment: fc.nat(7), action: fc.constantFrom('add' as const, 'remove' as const), contacts: fc.array(fc.integer({ min: -1, max: 7 }), { minLength: 1, maxLength: 3 }) })
        .map((r): Step => ({ t: 'manual', ...r })),
    },
    {
      weight: 7,
      arbitrary: fc.record({
        batches: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1, max: 3 }) }, { weight: 2, arbitrary: fc.constant('all' as const) }),
        batchSize: fc.integer({ min: 1, max: 2 }),
      })
        .map((r): Step => ({ t: 'backfill', ...r })),
    },
    {
      weight: 3,
      arbitrary: fc.oneof(
        fc.constantFrom(1, 59_000, 3_600_000, DAY, ...spans).map((by): Step => ({ t: 'clock', by })),
        fc.constantFrom(-1, 0, 1).map((toHorizon): Step => ({ t: 'clock', toHorizon })),
      ),
    },
  );
}

export function arbitraryScenario(pool: fc.Arbitrary<ValuePool>, options: { maxSteps: number }): fc.Arbitrary<Scenario> {
  return pool.chain((p) => arbitrarySchema().chain((full) => {
    const custom = full.filter((a) => !STANDARD_ATTRIBUTES.some((s) => s.key === a.key));
    // A few contacts first, so that builds take several batches and writes can land behind and ahead of the scan.
    const seed = fc.array(arbitraryRow(full, p), { minLength: 2, maxLength: 6 })
      .map((rows): Step => ({ t: 'write', rows: rows.map((r, i) => ({ key: { id: CONTACT_IDS[i] }, fields: r.fields })) }));
    return fc.tuple(seed, fc.array(arbitraryStep(full, p), { minLength: 1, maxLength: options.maxSteps, size: 'max' }))
      .map(([first, steps]) => ({ pool: p, custom, steps: [first, ...steps] }));
  }));
}

// ---- the model --------------------------------------------------------------------------------

type Values = Record<string, StoredValue>;
interface ModelContact { readonly id: string; values: Values }
interface ModelSegment {
  readonly id: string;
  name: string;
  readonly kind: 'dynamic' | 'manual';
  condition: ConditionJson | null;
  /** Every definition saved, oldest first: the active one is always one of them, and never an older one than before. */
  readonly history: string[];
  activeIndex: number;
}

const BOOLEAN_TEXT: Readonly<Record<string, boolean>> = { true: true, yes: true, '1': true, false: false, no: false, '0': false };
const isBlank = (s: string) => s.trim() === '';
/** JSON keeps no -0; the store keeps what JSON keeps. */
const asStored = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** "Ingest: values as they are written", for the values the steps send; null is a removal. */
function ingest(def: AttributeDef, raw: unknown, timeZone: string): StoredValue | null {
  if (raw === null) return null;
  switch (def.type) {
    case 'text': return raw as string;
    case 'enum': return isBlank(raw as string) ? null : def.options!.find((o) => contractFold(o) === contractFold(raw as string))!;
    case 'number': return typeof raw === 'number' ? raw : (raw as string).trim() === '' ? null : Number((raw as string).trim());
    case 'boolean': return typeof raw === 'boolean' ? raw : typeof raw === 'number' ? raw === 1 : BOOLEAN_TEXT[(raw as string).toLowerCase()];
    case 'date': return /^\d{4}-\d{2}-\d{2}$/.test(raw as string) ? referenceDayStart(raw as string, timeZone) : Date.parse(raw as string);
    case 'list': return raw as string[];
  }
}

/** The segment ids a definition's `segments` rules name. */
export function segmentsNamed(condition: unknown): string[] {
  const out = new Set<string>();
  const visit = (c: unknown): void => {
    const n = c as Record<string, unknown>;
    if ('all' in n) (n.all as unknown[]).forEach(visit);
    else if ('any' in n) (n.any as unknown[]).forEach(visit);
    else if ('not' in n) visit(n.not);
    else if (n.attr === 'segments' && n.value !== undefined && n.value !== null) {
      for (const v of Array.isArray(n.value) ? n.value : [n.value]) out.add(String(v));
    }
  };
  visit(condition);
  return [...out];
}

/** Whether giving `id` these dependencies closes a cycle in `edges`. */
function closesCycle(edges: ReadonlyMap<string, readonly string[]>, id: string, deps: readonly string[]): boolean {
  const seen = new Set<string>();
  const reaches = (from: string): boolean => {
    if (from === id) return true;
    if (seen.has(from)) return false;
    seen.add(from);
    return (edges.get(from) ?? []).some(reaches);
  };
  return deps.some(reaches);
}

export interface Definition { readonly id: string; readonly kind: 'dynamic' | 'manual'; readonly condition: ConditionJson | null }

/**
 * Membership as the contract defines it, computed from scratch: each segment in dependency
 * order, a dynamic one by its condition (the reference interpreter, `segments` being the
 * memberships decided before it), a manual one as curated; a dynamic one with no condition
 * (never built) has no members.
 */
export function expectedMembership(schema: Schema, timeZone: string, now: number, contacts: readonly ModelContact[],
  definitions: readonly Definition[], manual: ReadonlyMap<string, ReadonlySet<string>>): Membership {
  const byId = new Map(definitions.map((d) => [d.id, d]));
  const order: Definition[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (d: Definition) => {
    if (state.get(d.id) === 'done') return;
    if (state.get(d.id) === 'visiting') throw new Error(`expectedMembership: the definitions make a cycle through ${d.id}`);
    state.set(d.id, 'visiting');
    for (const dep of d.condition ? segmentsNamed(d.condition) : []) { const x = byId.get(dep); if (x) visit(x); }
    state.set(d.id, 'done');
    order.push(d);
  };
  definitions.forEach(visit);
  const out: Membership = new Map(definitions.map((d) => [d.id, new Set<string>()]));
  for (const c of contacts) {
    const mine: string[] = [];
    for (const d of order) {
      const is = d.kind === 'manual'
        ? (manual.get(d.id)?.has(c.id) ?? false)
        : d.condition !== null && referenceMatches({ schema, timeZone, now }, { ...c.values, segments: [...mine] }, d.condition);
      if (is) { mine.push(d.id); out.get(d.id)!.add(c.id); }
    }
  }
  for (const [id, set] of out) if (set.size === 0) out.delete(id);
  return out;
}

interface SegmentRow { id: string; kind: 'dynamic' | 'manual'; status: string; condition: string | null; active_condition: string | null; version: number; active_version: number }

/** Runs a scenario on an engine, checking store and model after every step. */
export class SequenceRunner {
  private readonly contacts: ModelContact[] = [];
  private readonly segments: ModelSegment[] = [];
  private readonly manual = new Map<string, Set<string>>();
  private readonly defs: Map<string, AttributeDef>;
  private readonly log: string[] = [];

  constructor(private readonly e: TestEngine, private readonly schema: Schema, private readonly timeZone: string) {
    this.defs = new Map(schema.map((a) => [a.key, a]));
  }

  static async start(e: TestEngine, scenario: Scenario): Promise<SequenceRunner> {
    for (const def of scenario.custom) await writeTransaction(e.database, (tx) => createAttribute(tx, e.workspaceId, def, e.clock.now));
    const schema = [...STANDARD_ATTRIBUTES, ...scenario.custom];
    return new SequenceRunner(e, schema, scenario.pool.timeZone);
  }

  async run(steps: readonly Step[]): Promise<void> {
    for (let i = 0; i < steps.length; i++) {
      this.log.push(`#${i} ${JSON.stringify(steps[i])}`);
      const before = await this.activeVersions();
      const settled = await this.step(steps[i]);
      const where = `after step #${i} ${JSON.stringify(steps[i])}`;
      await this.checkEventVersions(where, before);
      await this.check(where, settled);
    }
  }

  private lastSeq = 0;

  private async activeVersions(): Promise<Map<string, number>> {
    return new Map((await this.segmentRows()).map((r) => [r.id, r.active_version]));
  }

  /**
   * "Each event records the definition version that caused it": an entered or left event of a step
   * carries an active version of its segment from during the step: from the one before the step to
   * the one after (builds that complete during the step move it, a dependent's rebuild more than once).
   */
  private async checkEventVersions(where: string, before: ReadonlyMap<string, number>): Promise<void> {
    const after = await this.activeVersions();
    const events = await readEvents(this.e.database.db, this.ws, this.lastSeq, 100_000);
    for (const ev of events) {
      this.lastSeq = ev.seq;
      if (ev.type === 'segment.deleted') continue;
      const low = Math.max(1, before.get(ev.segmentId) ?? 1), high = after.get(ev.segmentId) ?? 0;
      expect(low <= ev.segmentVersion && ev.segmentVersion <= high,
        `${where}: event ${ev.seq} (${ev.type} ${ev.segmentId} ${ev.contactId}) records version ${ev.segmentVersion}, not one from ${low} to ${high}`).toBe(true);
    }
  }

  private get ws() { return this.e.workspaceId; }
  private get now() { return this.e.clock.now; }

  private resolve(spec: DefinitionSpec): unknown {
    const ids = this.segments.map((s) => s.id);
    const walk = (c: unknown): unknown => {
      const n = c as Record<string, unknown>;
      if ('all' in n) return { all: (n.all as unknown[]).map(walk) };
      if ('any' in n) return { any: (n.any as unknown[]).map(walk) };
      if ('not' in n) return { not: walk(n.not) };
      if (n.attr !== 'segments') return n;
      if (ids.length === 0) return { attr: 'tags', op: 'is_not_empty' };
      const pick = (v: unknown) => ids[(v as { $segment: number }).$segment % ids.length];
      return { ...n, value: Array.isArray(n.value) ? n.value.map(pick) : pick(n.value) };
    };
    return walk(spec);
  }

  private nameTaken(name: string, except: string | null): boolean {
    return this.segments.some((s) => s.id !== except && contractFold(s.name.trim()) === contractFold(name.trim()));
  }

  private async segmentRows(): Promise<SegmentRow[]> {
    return this.e.database.db.selectFrom('segments').select(['id', 'kind', 'status', 'condition', 'active_condition', 'version', 'active_version'])
      .where('workspace_id', '=', this.ws).execute();
  }

  /** Returns true when the step leaves no build pending (every definition's membership is complete). */
  private async step(step: Step): Promise<boolean> {
    const { e } = this;
    switch (step.t) {
      case 'write': {
        const rows = step.rows.map((r) => this.rowToSend(r));
        const outcomes = step.concurrent
          ? await Promise.all(rows.map((r) => e.writes.writeOne(this.ws, r.row)))
          : await e.writes.writeBatch(this.ws, rows.map((r) => r.row));
        expect(outcomes.length).toBe(rows.length);
        rows.forEach((r, i) => this.applyRow(r.row, r.bad, outcomes[i]));
        return false;
      }
      case 'delete': {
        const target = this.contactAt(step.contact);
        if (target === null) {
          await expect(e.writes.delete(this.ws, 'no-such-contact')).rejects.toMatchObject({ code: 'not_found' });
          return false;
        }
        await e.writes.delete(this.ws, target.id);
        this.contacts.splice(this.contacts.indexOf(target), 1);
        for (const set of this.manual.values()) set.delete(target.id);
        return false;
      }
      case 'create':
      case 'createManual': {
        const condition = step.t === 'create' ? this.resolve(step.definition) : undefined;
        const attempt = () => writeTransaction(e.database, (tx) => createSegment(tx, this.ws, {
          name: step.name, kind: step.t === 'create' ? 'dynamic' : 'manual', condition,
        }, this.now));
        if (this.nameTaken(step.name, null)) {
          await expect(attempt()).rejects.toMatchObject({ code: 'segment_name_taken' });
          return false;
        }
        const created = await attempt();
        this.segments.push({
          id: created.id, name: step.name.trim(), kind: created.kind, condition: (condition ?? null) as ConditionJson | null,
          history: [JSON.stringify(condition ?? null)], activeIndex: -1,
        });
        if (created.kind === 'manual') this.manual.set(created.id, new Set());
        expect(created.kind).toBe(step.t === 'create' ? 'dynamic' : 'manual');
        return false;
      }
      case 'update': {
        if (this.segments.length === 0) return false;
        const s = this.segments[step.segment % this.segments.length];
        const condition = s.kind === 'dynamic' && step.definition !== undefined ? this.resolve(step.definition) : undefined;
        const attempt = () => writeTransaction(e.database, (tx) => updateSegment(tx, this.ws, s.id, {
          ...(step.name !== undefined ? { name: step.name } : {}), ...(condition !== undefined ? { condition } : {}),
        }, { now: this.now }));
        if (step.name !== undefined && this.nameTaken(step.name, s.id)) {
          await expect(attempt()).rejects.toMatchObject({ code: 'segment_name_taken' });
          return false;
        }
        if (condition !== undefined) {
          const deps = segmentsNamed(condition);
          const targets = new Map(this.segments.filter((x) => x.kind === 'dynamic' && x.id !== s.id).map((x) => [x.id, segmentsNamed(x.condition)]));
          const active = new Map((await this.segmentRows()).map((r) => [r.id, r.active_condition ? segmentsNamed(JSON.parse(r.active_condition)) : []]));
          const both = new Map([...targets].map(([id, d]) => [id, [...d, ...(active.get(id) ?? [])]]));
          if (closesCycle(targets, s.id, deps)) {
            // A cycle among the definitions themselves: always refused.
            await expect(attempt()).rejects.toMatchObject({ code: 'segment_cycle' });
            return false;
          }
          if (closesCycle(both, s.id, deps)) {
            // A cycle only through a definition still active while its successor builds: refusing it
            // is fine; accepting it is fine too, as long as the workspace keeps working (the next
            // steps and checks tell).
            try { await attempt(); } catch (error) {
              expect(error).toMatchObject({ code: 'segment_cycle' });
              return false;
            }
            this.log.push('  (accepted a definition that closes a cycle through an active definition)');
          } else {
            await attempt();
          }
          s.condition = condition as ConditionJson;
          s.history.push(JSON.stringify(condition));
        } else {
          await attempt();
        }
        if (step.name !== undefined) s.name = step.name.trim();
        return false;
      }
      case 'deleteSegment': {
        if (this.segments.length === 0) return false;
        const s = this.segments[step.segment % this.segments.length];
        const rows = await this.segmentRows();
        const users = rows.filter((r) => r.id !== s.id && [r.condition, r.active_condition].some((j) => j !== null && segmentsNamed(JSON.parse(j)).includes(s.id)));
        const attempt = () => writeTransaction(e.database, (tx) => deleteSegment(tx, this.ws, s.id, this.now));
        if (users.length > 0) {
          await expect(attempt()).rejects.toMatchObject({ code: 'segment_in_use' });
          return false;
        }
        await attempt();
        this.segments.splice(this.segments.indexOf(s), 1);
        this.manual.delete(s.id);
        return false;
      }
      case 'manual': {
        const manual = this.segments.filter((s) => s.kind === 'manual');
        if (manual.length === 0) return false;
        const s = manual[step.segment % manual.length];
        const ids = step.contacts.map((k) => this.contactAt(k)?.id ?? 'no-such-contact');
        const result = await changeManualMembers(e.database, e.states, this.ws, s.id, ids, step.action, this.now);
        const set = this.manual.get(s.id)!;
        const changed: string[] = [], unknown: string[] = [];
        for (const id of new Set(ids)) {
          if (!this.contacts.some((c) => c.id === id)) { unknown.push(id); continue; }
          if ((step.action === 'add') === set.has(id)) continue;
          if (step.action === 'add') set.add(id); else set.delete(id);
          changed.push(id);
        }
        expect(result).toEqual({ changed, unknown });
        return false;
      }
      case 'backfill': {
        const options = { batchSize: step.batchSize, clock: () => this.now };
        if (step.batches === 'all') {
          await runBackfills(e.database, e.states, options);
          return true;
        }
        for (let i = 0; i < step.batches; i++) {
          const job = await e.database.db.selectFrom('segment_jobs').select('id').where('status', '=', 'pending').orderBy('id').limit(1).executeTakeFirst();
          if (!job) break;
          await runBatch(e.database, e.states, Number(job.id), options);
        }
        return false;
      }
      case 'fold': {
        await foldAllMemberOrders(e.database);
        expect(await e.database.db.selectFrom('segment_members_pending').select('contact_pk').execute()).toEqual([]);
        return false;
      }
      case 'clock': {
        if (step.toHorizon !== undefined) {
          const next = await e.database.db.selectFrom('contacts').select((eb) => eb.fn.min('next_change_ms').as('t'))
            .where('workspace_id', '=', this.ws).where('next_change_ms', '>', this.now).executeTakeFirst();
          const t = next?.t === null || next?.t === undefined ? this.now + 60_000 : Number(next.t);
          e.clock.now = Math.max(this.now, t + step.toHorizon);
        } else {
          e.clock.now += step.by!;
        }
        await refreshDue(e.database, e.states, this.now);
        const due = await e.database.db.selectFrom('contacts').select(['id', 'next_change_ms'])
          .where('workspace_id', '=', this.ws).where('next_change_ms', '<=', this.now).execute();
        expect(due, 'after the time refresh, no contact may still be due (its horizon must lie after now)').toEqual([]);
        return false;
      }
    }
  }

  private contactAt(k: number): ModelContact | null {
    return k < 0 || this.contacts.length === 0 ? null : this.contacts[k % this.contacts.length];
  }

  /** The row a write sends for `spec`, at the clock's time now; `bad`: it must be rejected. */
  rowToSend(spec: RowSpec): { row: Record<string, unknown>; bad: boolean } {
    const row: Record<string, unknown> = {};
    for (const [key, v] of spec.fields) {
      if ('raw' in v) { row[key] = v.raw; continue; }
      const ms = this.now + v.relative;
      row[key] = new Date(Math.min(Math.max(ms, Date.parse('0001-01-01T00:00:00Z')), Date.parse('9998-12-31T00:00:00Z'))).toISOString();
    }
    Object.assign(row, spec.key);
    if (spec.bad === 'number') {
      // A value its attribute cannot take (a schema may lack a custom number: then a boolean).
      const numberAttr = this.schema.find((a) => a.type === 'number');
      if (numberAttr) row[numberAttr.key] = 'abc'; else row.vip = 'maybe';
    }
    if (spec.bad === 'segments') row.segments = ['x'];
    if (spec.bad === 'unknown') row[UNKNOWN_KEY] = 'x';
    return { row, bad: spec.bad !== undefined };
  }

  /** The contract's upsert: by id, else external_id, else email (folded; of several, the first created with exactly that key, else the first created); merge; null removes. */
  private applyRow(row: Record<string, unknown>, bad: boolean, outcome: { status: string; id?: string }): void {
    if (bad) {
      expect(outcome.status, JSON.stringify(row)).toBe('rejected');
      return;
    }
    const changes: Record<string, StoredValue | null> = {};
    for (const [key, raw] of Object.entries(row)) if (key !== 'id') changes[key] = ingest(this.defs.get(key)!, raw, this.timeZone);
    const lookup = (key: string) => {
      const v = changes[key];
      if (typeof v !== 'string' || isBlank(v)) return undefined;
      const folded = this.contacts.filter((c) => typeof c.values[key] === 'string' && contractFold(c.values[key] as string) === contractFold(v));
      return folded.find((c) => c.values[key] === v) ?? folded[0];
    };
    const existing = row.id !== undefined ? this.contacts.find((c) => c.id === row.id) : lookup('external_id') ?? lookup('email');
    const merged: Values = existing ? { ...existing.values } : {};
    for (const [key, v] of Object.entries(changes)) { if (v === null) delete merged[key]; else merged[key] = asStored(v); }
    const same = existing !== undefined && JSON.stringify(sorted(existing.values)) === JSON.stringify(sorted(merged));
    const expected = existing === undefined ? 'created' : same ? 'unchanged' : 'updated';
    expect(outcome.status, `${JSON.stringify(row)} on ${JSON.stringify(existing ?? null)}`).toBe(expected);
    if (existing) {
      expect(outcome.id).toBe(existing.id);
      existing.values = merged;
    } else {
      if (row.id !== undefined) expect(outcome.id).toBe(row.id);
      expect(this.contacts.some((c) => c.id === outcome.id), 'a new contact gets a new id').toBe(false);
      this.contacts.push({ id: outcome.id!, values: merged });
    }
  }

  /** Every promise at once; `settled`: no build pending, so every definition is the active one. */
  async check(where: string, settled: boolean): Promise<void> {
    const { e } = this;
    const context = () => `${where}\nsteps so far:\n${this.log.join('\n')}`;
    const problems = await checkStore(e.database, e.states, this.ws, this.now);
    expect(problems, context()).toEqual([]);

    // The contacts are the model's: the writes merged as the contract says.
    const dbContacts = await e.database.db.selectFrom('contacts as c').innerJoin('contact_documents as d', 'd.contact_pk', 'c.pk')
      .select(['c.id', 'd.document as attributes']).where('c.workspace_id', '=', this.ws).orderBy('c.pk').execute();
    expect(dbContacts.map((c) => ({ id: c.id, values: sorted(JSON.parse(c.attributes)) })), context())
      .toEqual(this.contacts.map((c) => ({ id: c.id, values: sorted(c.values) })));

    // Stored membership is the contract's, computed from scratch with the definitions that are active
    // (a segment being rebuilt keeps its previous membership; one never built has none).
    const rows = await this.segmentRows();
    expect(rows.map((r) => r.id).sort(), context()).toEqual(this.segments.map((s) => s.id).sort());
    for (const s of this.segments) {
      const r = rows.find((x) => x.id === s.id)!;
      if (s.kind !== 'dynamic' || r.active_condition === null) continue;
      const at = s.history.lastIndexOf(JSON.stringify(JSON.parse(r.active_condition)));
      expect(at, `${context()}\nsegment ${s.id}: its active definition ${r.active_condition} was never saved`).toBeGreaterThanOrEqual(0);
      expect(at, `${context()}\nsegment ${s.id}: an older definition became active again`).toBeGreaterThanOrEqual(s.activeIndex);
      s.activeIndex = at;
    }
    const active: Definition[] = rows.map((r) => ({
      id: r.id, kind: r.kind, condition: r.kind === 'dynamic' && r.active_condition !== null ? JSON.parse(r.active_condition) as ConditionJson : null,
    }));
    const stored = (await storedMembership(e.database, this.ws)).members;
    const expected = expectedMembership(this.schema, this.timeZone, this.now, this.contacts, active, this.manual);
    expect(compareMembership(stored, expected, 'stored membership', 'the contract (active definitions)'), context()).toEqual([]);

    // A contact's record lists the segments it is in.
    for (const c of this.contacts) {
      const read = await e.writes.get(this.ws, c.id);
      const want = [...stored].filter(([, set]) => set.has(c.id)).map(([id]) => id).sort();
      expect(read?.segments.map((s) => s.id), context()).toEqual(want);
    }

    if (!settled) return;
    // With every build done, the active definitions are the ones saved, and membership follows them.
    const pending = await e.database.db.selectFrom('segment_jobs').select(['id', 'segment_id']).where('workspace_id', '=', this.ws).where('status', '=', 'pending').execute();
    expect(pending, context()).toEqual([]);
    for (const s of this.segments) {
      const r = rows.find((x) => x.id === s.id)!;
      expect({ id: s.id, status: r.status }, context()).toEqual({ id: s.id, status: 'ready' });
      // As JSON: the stored definition is JSON text, in which -0 is 0.
      if (s.kind === 'dynamic') expect(JSON.parse(r.active_condition ?? 'null'), context()).toEqual(JSON.parse(JSON.stringify(s.condition)));
    }
    const saved: Definition[] = this.segments.map((s) => ({ id: s.id, kind: s.kind, condition: s.condition }));
    const wanted = expectedMembership(this.schema, this.timeZone, this.now, this.contacts, saved, this.manual);
    expect(compareMembership(stored, wanted, 'stored membership', 'the contract (saved definitions)'), context()).toEqual([]);
  }
}

function sorted(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).sort(([a], [b]) => (a < b ? -1 : 1)));
}
