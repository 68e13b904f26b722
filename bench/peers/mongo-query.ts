// The conditions as MongoDB query documents, for sift and mingo (both implement MongoDB's query
// language over plain objects). Mongo's own semantics match the contract where used natively:
// comparison operators never match a missing field or another type, `$ne` / `$nin` / `$not` are
// true on a missing field, and on an array field `{f: v}` / `$in` test the elements. Text tests
// are anchored regular expressions over the folded copies, every metacharacter escaped.
import type { Lowered } from './lower.js';
import { textRegexSource } from './lower.js';

export type MongoQuery = Record<string, unknown>;

const NOBODY: MongoQuery = { $nor: [{}] };

export function toMongoQuery(node: Lowered): MongoQuery {
  switch (node.k) {
    case 'and': return node.parts.length === 0 ? {} : { $and: node.parts.map(toMongoQuery) };
    case 'or': return node.parts.length === 0 ? NOBODY : { $or: node.parts.map(toMongoQuery) };
    case 'not': return negate(node.part);
    case 'missing': return { [node.attr]: { $exists: false } };
    case 'eq': return { [node.attr]: { $eq: node.value } };
    case 'in': return { [node.attr]: { $in: [...node.values] } };
    case 'has': return { [node.attr]: { $eq: node.value } };
    case 'hasAny': return { [node.attr]: { $in: [...node.values] } };
    case 'text': return { [node.attr]: { $regex: new RegExp(textRegexSource(node.how, node.value)) } };
    case 'range': return { [node.attr]: range(node) };
  }
}

function negate(p: Lowered): MongoQuery {
  switch (p.k) {
    case 'eq':
    case 'has': return { [p.attr]: { $ne: p.value } };
    case 'in':
    case 'hasAny': return { [p.attr]: { $nin: [...p.values] } };
    case 'missing': return { [p.attr]: { $exists: true } };
    case 'text': return { [p.attr]: { $not: new RegExp(textRegexSource(p.how, p.value)) } };
    default: return { $nor: [toMongoQuery(p)] };
  }
}

function range(node: Extract<Lowered, { k: 'range' }>): Record<string, number> {
  const out: Record<string, number> = {};
  if (node.low !== undefined) out[node.lowOpen ? '$gt' : '$gte'] = node.low;
  if (node.high !== undefined) out[node.highOpen ? '$lt' : '$lte'] = node.high;
  return out;
}
