import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StoredValue } from '../conditions/contact-values.js';
import { documentOf } from './new-contact-draft.js';

/** Texts that take JSON's every path: quotes, backslashes, control characters, lone surrogates, line separators. */
const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', '"', '\\', '\u0000', '\u001f', '\u007f', '\u2028', '\ud800', 'a"b', 'é', '😀', ' x '),
);
const value: fc.Arbitrary<StoredValue | null> = fc.oneof(
  text,
  fc.double(),
  fc.integer(),
  fc.constantFrom(-0, 1e21, 5e-324, Number.MAX_VALUE),
  fc.boolean(),
  fc.array(text, { maxLength: 4 }),
  fc.constant(null),
);
const key = fc.stringMatching(/^[a-z][a-z0-9_]{0,10}$/);

describe('documentOf (a new contact\'s document, written without JSON.stringify of the record)', () => {
  it('is JSON.stringify of the values, removals left out, in the input\'s order', () => {
    fc.assert(fc.property(fc.uniqueArray(fc.tuple(key, value), { selector: ([k]) => k, maxLength: 12 }), (entries) => {
      const keys = entries.map(([k]) => k);
      const values = entries.map(([, v]) => v);
      const expected = Object.fromEntries(entries.filter(([, v]) => v !== null));
      const document = documentOf({ keys, values });
      expect(document).toBe(JSON.stringify(expected));
      expect(JSON.parse(document)).toEqual(JSON.parse(JSON.stringify(expected)));
    }), { numRuns: 500 });
  });
});
