// Before any peer is timed, it must select exactly the contacts ours selects, for every condition.
// A difference aborts the benchmark with the condition, a contact that differs, and both answers.
import type { BenchCondition, RawContact } from '../fixtures.js';
import type { PeerObject } from './peer.js';

export class PeerDisagrees extends Error {
  readonly code = 'peer_disagrees';
}

/**
 * `ours[j]` holds 1 at contact i when condition j selects it. `tests[j]` is the peer's compiled
 * condition j. Returns the peer's count per condition (equal to ours when it returns).
 */
export function verifyPeer(
  name: string,
  conditions: readonly BenchCondition[],
  tests: readonly ((c: PeerObject) => boolean)[],
  ours: readonly Uint8Array[],
  objects: readonly PeerObject[],
  raw: readonly RawContact[],
  translated: (j: number) => unknown,
): void {
  for (let j = 0; j < conditions.length; j++) {
    const test = tests[j], expected = ours[j];
    for (let i = 0; i < objects.length; i++) {
      const theirs = test(objects[i]) ? 1 : 0;
      if (theirs === expected[i]) continue;
      throw new PeerDisagrees([
        `${name} disagrees with the compiled predicate on condition "${conditions[j].id}" (${conditions[j].description})`,
        `  contact ${raw[i].id}: ours ${expected[i] === 1 ? 'selects' : 'does not select'} it, ${name} ${theirs === 1 ? 'selects' : 'does not select'} it`,
        `  condition: ${JSON.stringify(conditions[j].json)}`,
        `  ${name}: ${JSON.stringify(translated(j), (_, v) => (v instanceof RegExp ? v.toString() : v))}`,
        `  raw contact: ${JSON.stringify(raw[i])}`,
        `  as the peer sees it: ${JSON.stringify(objects[i])}`,
      ].join('\n'));
    }
  }
}
