import { describe, expect, it } from 'vitest';
import { generateTest } from './compile-generated.js';
import { createLayout, prepareContact } from './contact-values.js';
import { STANDARD_ATTRIBUTES } from './schema.js';
import { validateOrThrow } from './validate.js';

describe('generateTest', () => {
  const layout = createLayout(STANDARD_ATTRIBUTES);
  const hostile = '`); globalThis.pwned = 1; (`"\'\\u2028';

  it('keeps every condition value out of the generated source', () => {
    const condition = validateOrThrow(STANDARD_ATTRIBUTES, {
      any: [{ attr: 'name', op: 'eq', value: hostile }, { attr: 'tags', op: 'in', value: [hostile, 'x'] }, { attr: 'email', op: 'contains', value: hostile }],
    });
    const { test, source } = generateTest(condition, layout, 'UTC');
    expect(source).not.toContain('pwned');
    expect(source).toMatch(/^return function generatedPredicate\(c, now\) \{ let v; return [\w\s[\]().!=&|<>+\-,]+; \};$/);
    expect(test(prepareContact(layout, { name: hostile }), 0)).toBe(true);
    expect(test(prepareContact(layout, { name: 'x' }), 0)).toBe(false);
    expect((globalThis as { pwned?: number }).pwned).toBeUndefined();
  });
});
