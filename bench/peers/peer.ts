// What every peer library gets: the same prepared contacts as plain objects (folded text, dates as
// UTC ms, lists of folded strings, missing attributes ABSENT) and the same conditions, lowered.
import type { ContactLayout, PreparedContact } from '../../src/conditions/contact-values.js';
import type { Lowered } from './lower.js';

export type PeerValue = string | number | boolean | readonly string[];
export type PeerObject = Record<string, PeerValue>;

export interface Peer {
  readonly name: string;
  /** The condition in the peer's own language, as a test of one contact object. */
  compile(condition: Lowered): (contact: PeerObject) => boolean;
}

export function toPeerObject(layout: ContactLayout, prepared: PreparedContact): PeerObject {
  const out: PeerObject = {};
  const { attributes } = layout;
  for (let i = 0; i < attributes.length; i++) {
    const v = prepared[i];
    if (v !== undefined) out[attributes[i].key] = v;
  }
  return out;
}
