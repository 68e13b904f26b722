// The operator table of docs/condition-language.md, made from the catalogue so the two cannot drift
// (a test compares them).
import { ATTRIBUTE_TYPES } from './schema.js';
import { OPERATOR_NAMES, OPERATORS } from './operators.js';

const SHAPE_TEXT = {
  none: '(no value)', text: 'text', texts: 'array of texts', number: 'number', numbers: 'array of numbers',
  numberRange: '[low, high]', boolean: 'true / false', date: 'day or instant', dateRange: '[from, to]',
  span: '{amount, unit}',
} as const;

export function operatorTableMarkdown(): string {
  const header = `| operator | ${ATTRIBUTE_TYPES.join(' | ')} | on a missing value |`;
  const rule = `| --- | ${ATTRIBUTE_TYPES.map(() => '---').join(' | ')} | --- |`;
  const rows = OPERATOR_NAMES.map((op) => {
    const spec = OPERATORS[op];
    const cells = ATTRIBUTE_TYPES.map((t) => (spec.shapes[t] ? SHAPE_TEXT[spec.shapes[t]!] : ''));
    const missing = spec.complementOf ? `${spec.onMissing} (not ${spec.complementOf})` : String(spec.onMissing);
    return `| \`${op}\` | ${cells.join(' | ')} | ${missing} |`;
  });
  return [header, rule, ...rows].join('\n');
}
