import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { operatorTableMarkdown } from './operator-table.js';

it('docs/condition-language.md shows the operator catalogue as it is', () => {
  const doc = readFileSync(new URL('../../docs/condition-language.md', import.meta.url), 'utf8');
  expect(doc).toContain(operatorTableMarkdown());
});
