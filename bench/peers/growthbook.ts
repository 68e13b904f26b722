// GrowthBook's condition evaluator (`evalCondition`, a MongoDB-like dialect). Guards: a missing
// path reads as null and `$lt`/`$lte`/`$gt`/`$gte` compare with JavaScript's `<` (null < 5), so
// every range carries `$exists: true`; `$regex` tests `String(null)` = "null", so text tests do
// too; a bare value compares loosely (`{seats: 0}` matches null * 1 = 0), so equality is `$eq`;
// an empty `$or` is true in GrowthBook, so an empty `any` is `{$not: {}}`.
import { evalCondition } from '@growthbook/growthbook';
import type { Lowered } from './lower.js';
import { textRegexSource } from './lower.js';
import type { Peer } from './peer.js';

type GbCondition = Record<string, unknown>;

export function toGrowthBook(node: Lowered): GbCondition {
  switch (node.k) {
    case 'and': return node.parts.length === 0 ? {} : { $and: node.parts.map(toGrowthBook) };
    case 'or': return node.parts.length === 0 ? { $not: {} } : { $or: node.parts.map(toGrowthBook) };
    case 'not': return negate(node.part);
    case 'missing': return { [node.attr]: { $exists: false } };
    case 'eq': return { [node.attr]: { $eq: node.value } };
    case 'in': return { [node.attr]: { $in: [...node.values] } };
    case 'has': return { [node.attr]: { $in: [node.value] } };
    case 'hasAny': return { [node.attr]: { $in: [...node.values] } };
    case 'text': return { [node.attr]: { $exists: true, $regex: textRegexSource(node.how, node.value) } };
    case 'range': {
      const out: Record<string, unknown> = { $exists: true };
      if (node.low !== undefined) out[node.lowOpen ? '$gt' : '$gte'] = node.low;
      if (node.high !== undefined) out[node.highOpen ? '$lt' : '$lte'] = node.high;
      return { [node.attr]: out };
    }
  }
}

function negate(p: Lowered): GbCondition {
  switch (p.k) {
    case 'eq': return { [p.attr]: { $ne: p.value } };
    case 'in':
    case 'hasAny': return { [p.attr]: { $nin: [...p.values] } };
    case 'has': return { [p.attr]: { $nin: [p.value] } };
    case 'missing': return { [p.attr]: { $exists: true } };
    default: return { $not: toGrowthBook(p) };
  }
}

export const growthBookPeer: Peer = {
  name: '@growthbook/growthbook',
  compile(condition) {
    const gb = toGrowthBook(condition);
    return (contact) => evalCondition(contact as never, gb as never);
  },
};
