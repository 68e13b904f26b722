// `segments evaluate`: one JSON document in, the ids of the matching contacts out (a JSON array).
import { compilePredicate } from '../conditions/compile-predicate.js';
import { createLayout, prepareContact } from '../conditions/contact-values.js';
import { explain, renderExplanation } from '../conditions/explain.js';
import type { ValidationIssue } from '../conditions/types.js';
import { readDocument } from './evaluate-document.js';
import type { EvaluateDocument } from './evaluate-document.js';

export type Engine = 'predicate' | 'sqlite' | 'postgres';

export interface EvaluateOptions {
  readonly engine: Engine;
  /** Print why this contact does or does not match, instead of the ids. */
  readonly explainId?: string;
  readonly json?: boolean;
  readonly databaseUrl?: string;
}

export interface CommandResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Exit status for an invalid document or condition, as the protocol fixes it. */
export const EXIT_INVALID = 2;

export async function runEvaluate(text: string, options: EvaluateOptions): Promise<CommandResult> {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    return invalid([{ path: '', message: `standard input is not JSON: ${(error as Error).message}` }]);
  }
  const read = readDocument(input);
  if (!read.ok) return invalid(read.issues);
  const doc = read.document;

  if (options.explainId !== undefined) return explainContact(doc, options.explainId, options.json === true);

  const ids = options.engine === 'predicate' ? evaluateWithPredicate(doc) : await evaluateWithSql(doc, options.engine, options.databaseUrl);
  return { exitCode: 0, stdout: `${JSON.stringify(ids)}\n`, stderr: '' };
}

export function evaluateWithPredicate(doc: EvaluateDocument): (string | number)[] {
  const layout = createLayout(doc.schema);
  const predicate = compilePredicate(doc.condition, layout, { timeZone: doc.timeZone });
  return doc.contacts.filter((c) => predicate.test(prepareContact(layout, c.values), doc.now)).map((c) => c.id);
}

async function evaluateWithSql(doc: EvaluateDocument, dialect: 'sqlite' | 'postgres', databaseUrl?: string): Promise<(string | number)[]> {
  const { createSqlEvaluator } = await import('../contacts/sql-evaluate.js');
  // The database keeps ids as text; map back so numeric ids print as they were written.
  const byText = new Map(doc.contacts.map((c) => [String(c.id), c.id]));
  const evaluator = await createSqlEvaluator(dialect, {
    schema: doc.schema,
    timeZone: doc.timeZone,
    contacts: doc.contacts.map((c) => ({ id: String(c.id), values: c.values })),
    databaseUrl,
  });
  try {
    const ids = await evaluator.evaluate(doc.condition, doc.now);
    return ids.map((id) => byText.get(id) ?? id);
  } finally {
    await evaluator.close();
  }
}

function explainContact(doc: EvaluateDocument, id: string, json: boolean): CommandResult {
  const contact = doc.contacts.find((c) => String(c.id) === id);
  if (!contact) return { exitCode: 1, stdout: '', stderr: `segments evaluate: no contact with id ${JSON.stringify(id)} in the document\n` };
  const explanation = explain(doc.condition, createLayout(doc.schema), contact.values, doc.now, { timeZone: doc.timeZone });
  const stdout = json
    ? `${JSON.stringify(explanation, null, 2)}\n`
    : [`contact ${JSON.stringify(contact.id)} ${explanation.result ? 'matches' : 'does not match'} (now ${new Date(doc.now).toISOString()}, time zone ${doc.timeZone})`,
       ...renderExplanation(explanation), ''].join('\n');
  return { exitCode: 0, stdout, stderr: '' };
}

function invalid(issues: readonly ValidationIssue[]): CommandResult {
  const lines = issues.map((i) => `  ${i.path || '(document)'}: ${i.message}`);
  return { exitCode: EXIT_INVALID, stdout: '', stderr: `segments evaluate: invalid document\n${lines.join('\n')}\n` };
}
