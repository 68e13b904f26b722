// Segments built on segments: which ones a condition reads, the order to evaluate them in, and
// the cycle a new definition would close.
import { SEGMENTS_FIELD } from '../conditions/schema.js';
import type { Condition } from '../conditions/types.js';

/** The segment ids a condition's `segments` rules name. */
export function dependenciesOf(condition: Condition): string[] {
  const ids = new Set<string>();
  const visit = (c: Condition): void => {
    if (c.kind === 'rule') {
      if (c.attr === SEGMENTS_FIELD && (c.operand.shape === 'text' || c.operand.shape === 'texts')) {
        for (const id of c.operand.shape === 'text' ? [c.operand.folded] : c.operand.folded) ids.add(id);
      }
    } else if (c.kind === 'not') visit(c.child);
    else c.children.forEach(visit);
  };
  visit(condition);
  return [...ids];
}

interface Node { readonly id: string; readonly dependsOn: readonly string[] }

/** Dependencies before dependents (stable by input order otherwise). Throws on a cycle: saving refuses those. */
export function dependencyOrder<T extends Node>(nodes: readonly T[]): T[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const done = new Set<string>(), visiting = new Set<string>();
  const out: T[] = [];
  const visit = (n: T): void => {
    if (done.has(n.id)) return;
    if (visiting.has(n.id)) throw new Error(`segment dependency cycle through ${n.id}`);
    visiting.add(n.id);
    for (const d of n.dependsOn) {
      const dep = byId.get(d);
      if (dep) visit(dep);
    }
    visiting.delete(n.id);
    done.add(n.id);
    out.push(n);
  };
  nodes.forEach(visit);
  return out;
}

/** The cycle that giving `id` these dependencies would close, as ids from `id` back to `id`; null if none. */
export function findCycle(nodes: readonly Node[], id: string, dependsOn: readonly string[]): string[] | null {
  const edges = new Map(nodes.map((n) => [n.id, n.dependsOn]));
  edges.set(id, dependsOn);
  const path: string[] = [];
  const seen = new Set<string>();
  const walk = (at: string): boolean => {
    if (at === id && path.length > 0) return true;
    if (seen.has(at)) return false;
    seen.add(at);
    path.push(at);
    for (const next of edges.get(at) ?? []) if (walk(next)) return true;
    path.pop();
    return false;
  };
  return walk(id) ? [...path, id] : null;
}

/** Every segment that reads `id`, directly or through others, in evaluation order. */
export function dependentsOf<T extends Node>(nodes: readonly T[], id: string): T[] {
  const result = new Set<string>([id]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const n of nodes) {
      if (!result.has(n.id) && n.dependsOn.some((d) => result.has(d))) { result.add(n.id); grew = true; }
    }
  }
  result.delete(id);
  return dependencyOrder(nodes).filter((n) => result.has(n.id));
}
