// A workspace compiled for the write path: its schema and layouts, and every segment's predicate
// in dependency order. Built once per configuration version and cached; any process that sees
// the workspace's config_version move recompiles, so processes stay in step.
import { compilePredicate } from '../conditions/compile-predicate.js';
import type { CompiledPredicate } from '../conditions/compile-predicate.js';
import { createLayout } from '../conditions/contact-values.js';
import type { ContactLayout } from '../conditions/contact-values.js';
import { SEGMENTS_FIELD } from '../conditions/schema.js';
import type { Condition, Schema } from '../conditions/types.js';
import { validate } from '../conditions/validate.js';
import { loadSchema } from '../contacts/attribute-store.js';
import { preparedStorage } from '../contacts/contact-columns.js';
import type { ColumnLayout, PreparedStorage } from '../contacts/contact-columns.js';
import { reusableQuery } from '../db/reusable-query.js';
import type { Tx } from '../db/write-transaction.js';
import { NotFound } from '../errors.js';
import { dependenciesOf, dependencyOrder } from './dependencies.js';

export interface CompiledSegment {
  readonly id: string;
  readonly name: string;
  readonly kind: 'dynamic' | 'manual';
  /** The version whose membership is stored (0: never built). */
  readonly activeVersion: number;
  /** Dynamic and built: the predicate of the active definition. */
  readonly active: CompiledPredicate | null;
  readonly activeCondition: Condition | null;
  /** The definition being built by a backfill, when it differs from the active one. */
  readonly building: { readonly version: number; readonly condition: Condition; readonly predicate: CompiledPredicate } | null;
  /** Segments this one's conditions read. */
  readonly dependsOn: readonly string[];
}

/** What a workspace is compiled from, as read from the store: plain data another thread can be sent. */
export interface WorkspaceConfig {
  readonly workspaceId: string;
  readonly timeZone: string;
  readonly configVersion: number;
  readonly schema: Schema;
  readonly columns: ColumnLayout;
  readonly segmentRows: ReadonlyArray<{
    readonly id: string; readonly name: string; readonly kind: 'dynamic' | 'manual'; readonly condition: string | null;
    readonly version: number; readonly active_version: number; readonly active_condition: string | null;
  }>;
}

export interface WorkspaceState {
  /** What it was compiled from. */
  readonly config: WorkspaceConfig;
  readonly workspaceId: string;
  readonly timeZone: string;
  readonly configVersion: number;
  readonly schema: Schema;
  readonly columns: ColumnLayout;
  readonly layout: ContactLayout;
  /** Where each position of a prepared contact is stored (slot column, list, or nowhere). */
  readonly storage: PreparedStorage;
  /** Where `segments` sits in a prepared contact. */
  readonly segmentsSlot: number;
  /** Every segment, dependencies before dependents. */
  readonly segments: readonly CompiledSegment[];
  readonly byId: ReadonlyMap<string, CompiledSegment>;
  /** The segments being rebuilt (a `building` definition), in the same order. */
  readonly building: readonly CompiledSegment[];
}

/** Caches compiled workspaces by configuration version. One per process. */
/** Read by every request: compiled once (reusable-query.ts). */
const configOf = reusableQuery((db: Tx, workspaceId: string) => db.selectFrom('workspaces').select(['config_version', 'time_zone']).where('id', '=', workspaceId));

export class WorkspaceStates {
  private readonly cache = new Map<string, WorkspaceState>();

  async get(db: Tx, workspaceId: string): Promise<WorkspaceState> {
    const [row] = await configOf(db, workspaceId);
    if (!row) throw new NotFound('workspace', workspaceId);
    const version = Number(row.config_version);
    const cached = this.cache.get(workspaceId);
    if (cached && cached.configVersion === version) return cached;
    const state = await compileWorkspace(db, workspaceId, row.time_zone, version);
    this.cache.set(workspaceId, state);
    return state;
  }
}

/** Parses and validates a stored definition. Stored definitions were valid when saved; disabled attributes keep working. */
export function storedCondition(schema: Schema, json: string, knownSegments: ReadonlySet<string>): Condition {
  const result = validate(schema, JSON.parse(json), {
    segments: 'segment',
    isKnownSegment: (id) => knownSegments.has(id),
    previouslyUsed: new Set(schema.map((a) => a.key)),
  });
  if (!result.ok) throw new Error(`a stored definition no longer validates: ${result.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  return result.condition;
}

async function compileWorkspace(db: Tx, workspaceId: string, timeZone: string, configVersion: number): Promise<WorkspaceState> {
  const { schema, columns } = await loadSchema(db, workspaceId);
  const segmentRows = await db.selectFrom('segments')
    .select(['id', 'name', 'kind', 'condition', 'version', 'active_version', 'active_condition'])
    .where('workspace_id', '=', workspaceId).execute();
  return compileWorkspaceConfig({ workspaceId, timeZone, configVersion, schema, columns, segmentRows });
}

/** Compiles a workspace from its configuration: pure, so a worker thread compiles the same state. */
export function compileWorkspaceConfig(config: WorkspaceConfig): WorkspaceState {
  const { workspaceId, timeZone, configVersion, schema, columns, segmentRows: rows } = config;
  const layout = createLayout(schema);
  const known = new Set(rows.map((r) => r.id));
  const compile = (c: Condition) => compilePredicate(c, layout, { timeZone });

  const compiled = rows.map((r): CompiledSegment => {
    if (r.kind === 'manual') {
      return { id: r.id, name: r.name, kind: 'manual', activeVersion: r.active_version, active: null, activeCondition: null, building: null, dependsOn: [] };
    }
    const activeCondition = r.active_condition !== null ? storedCondition(schema, r.active_condition, known) : null;
    const target = storedCondition(schema, r.condition!, known);
    const building = r.version !== r.active_version ? { version: r.version, condition: target, predicate: compile(target) } : null;
    const dependsOn = [...new Set([...(activeCondition ? dependenciesOf(activeCondition) : []), ...dependenciesOf(target)])];
    return {
      id: r.id, name: r.name, kind: 'dynamic', activeVersion: r.active_version,
      active: activeCondition ? compile(activeCondition) : null, activeCondition, building, dependsOn,
    };
  });
  const ordered = dependencyOrder(compiled);
  return {
    config, workspaceId, timeZone, configVersion, schema, columns, layout, storage: preparedStorage(columns, layout),
    segmentsSlot: layout.index.get(SEGMENTS_FIELD)!,
    segments: ordered, byId: new Map(ordered.map((s) => [s.id, s])), building: ordered.filter((s) => s.building !== null),
  };
}
