// json-logic-js. Guards: `var` returns null on a missing value and JavaScript orders null as 0
// (`null < 5`, `null >= 0` are true), so every range is `!= null` first; `substr` turns null into
// "null", so starts/ends are guarded too. `in` on a string is a substring test (no pattern), and
// `in` / `!==` are false / true on null, as `in` / `neq` must be on a missing value.
import jsonLogic from 'json-logic-js';
import type { Lowered } from './lower.js';
import type { Peer, PeerObject } from './peer.js';

type Rule = unknown;

const v = (attr: string) => ({ var: attr });
const present = (attr: string) => ({ '!=': [v(attr), null] });

export function toJsonLogic(node: Lowered): Rule {
  switch (node.k) {
    case 'and': return node.parts.length === 0 ? true : { and: node.parts.map(toJsonLogic) };
    case 'or': return node.parts.length === 0 ? false : { or: node.parts.map(toJsonLogic) };
    case 'not': {
      const p = node.part;
      if (p.k === 'eq') return { '!==': [v(p.attr), p.value] };
      if (p.k === 'missing') return present(p.attr);
      return { '!': [toJsonLogic(p)] };
    }
    case 'missing': return { '==': [v(node.attr), null] };
    case 'eq': return { '===': [v(node.attr), node.value] };
    case 'in': return { in: [v(node.attr), [...node.values]] };
    case 'has': return { in: [node.value, v(node.attr)] };
    case 'hasAny': return { some: [v(node.attr), { in: [{ var: '' }, [...node.values]] }] };
    case 'text': {
      const n = node.value.length;
      if (node.how === 'contains') return { in: [node.value, v(node.attr)] };
      const cut = node.how === 'starts' ? { substr: [v(node.attr), 0, n] } : { substr: [v(node.attr), -n] };
      return { and: [present(node.attr), { '===': [cut, node.value] }] };
    }
    case 'range': {
      const parts: Rule[] = [present(node.attr)];
      if (node.low !== undefined) parts.push({ [node.lowOpen ? '>' : '>=']: [v(node.attr), node.low] });
      if (node.high !== undefined) parts.push({ [node.highOpen ? '<' : '<=']: [v(node.attr), node.high] });
      return { and: parts };
    }
  }
}

export const jsonLogicPeer: Peer = {
  name: 'json-logic-js',
  compile(condition) {
    const rule = toJsonLogic(condition);
    return (contact: PeerObject) => jsonLogic.truthy(jsonLogic.apply(rule as never, contact));
  },
};
