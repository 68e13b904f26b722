// The attribute schema: the standard attributes every workspace has, reserved keys, and the checks
// a schema entry must pass before conditions can be written against it.
import { fold } from './fold.js';
import { ATTRIBUTE_KEY, LIMITS } from './limits.js';
import type { AttributeDef, AttributeType, Schema, ValidationIssue } from './types.js';

export const ATTRIBUTE_TYPES: readonly AttributeType[] = ['text', 'enum', 'number', 'date', 'boolean', 'list'];

export const PLATFORM_OPTIONS = ['whatsapp', 'instagram', 'webchat', 'email', 'sms'] as const;

export const STANDARD_ATTRIBUTES: Schema = [
  { key: 'email', type: 'text', label: 'Email' },
  { key: 'name', type: 'text', label: 'Name' },
  { key: 'company', type: 'text', label: 'Company' },
  { key: 'phone', type: 'text', label: 'Phone' },
  { key: 'external_id', type: 'text', label: 'External ID' },
  { key: 'country', type: 'text', label: 'Country' },
  { key: 'language', type: 'text', label: 'Language' },
  { key: 'platform', type: 'enum', options: PLATFORM_OPTIONS, label: 'Platform' },
  { key: 'tags', type: 'list', label: 'Tags' },
  { key: 'created_at', type: 'date', label: 'Created at' },
  { key: 'last_interaction_at', type: 'date', label: 'Last interaction at' },
  { key: 'marketing_opt_out', type: 'boolean', label: 'Marketing opt-out' },
  { key: 'vip', type: 'boolean', label: 'VIP' },
];

/** Segment membership as a list field: computed, never written. */
export const SEGMENTS_FIELD = 'segments';

/** Conversation fields usable in routing, priority, SLA, view and bot rules. */
export const CONVERSATION_FIELDS = ['channel', 'topic', 'inbox', 'priority', 'status', 'team', 'assignee'] as const;

/** Keys no custom attribute may take. */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['id', SEGMENTS_FIELD, ...CONVERSATION_FIELDS]);

const STANDARD_KEYS = new Set(STANDARD_ATTRIBUTES.map((a) => a.key));

export function isStandardAttribute(key: string): boolean {
  return STANDARD_KEYS.has(key);
}

const ENTRY_KEYS = new Set(['key', 'type', 'options', 'label', 'enabled']);

/**
 * Checks one schema entry's shape as a user wrote it; `path` is where the entry sits (`schema[3]`).
 * Whether its key may be used (reserved, standard, taken) is the caller's rule: a workspace and a
 * standalone document differ there.
 */
export function validateAttributeDef(entry: unknown, path: string, issues: ValidationIssue[]): AttributeDef | null {
  const before = issues.length;
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    issues.push({ path, message: 'expected an attribute: an object with "key" and "type"' });
    return null;
  }
  const e = entry as Record<string, unknown>;
  for (const k of Object.keys(e)) {
    if (!ENTRY_KEYS.has(k)) issues.push({ path: `${path}.${k}`, message: `unknown field "${k}"; an attribute has key, type, options, label, enabled` });
  }
  if (typeof e.key !== 'string' || !ATTRIBUTE_KEY.test(e.key)) {
    issues.push({ path: `${path}.key`, message: 'expected a key of lower-case letters, digits and "_", starting with a letter, at most 64 characters' });
  }
  if (!ATTRIBUTE_TYPES.includes(e.type as AttributeType)) {
    issues.push({ path: `${path}.type`, message: `expected one of ${ATTRIBUTE_TYPES.join(', ')}` });
  }
  if (e.type === 'enum') {
    validateOptions(e.options, `${path}.options`, issues);
  } else if (e.options !== undefined) {
    issues.push({ path: `${path}.options`, message: 'only an enum attribute has options' });
  }
  if (e.label !== undefined && (typeof e.label !== 'string' || e.label.length > LIMITS.textLength)) {
    issues.push({ path: `${path}.label`, message: `expected a text of at most ${LIMITS.textLength} characters` });
  }
  if (e.enabled !== undefined && typeof e.enabled !== 'boolean') {
    issues.push({ path: `${path}.enabled`, message: 'expected true or false' });
  }
  if (issues.length > before) return null;
  const def: AttributeDef = {
    key: e.key as string,
    type: e.type as AttributeType,
    ...(e.options !== undefined ? { options: [...(e.options as string[])] } : {}),
    ...(e.label !== undefined ? { label: e.label as string } : {}),
    ...(e.enabled !== undefined ? { enabled: e.enabled as boolean } : {}),
  };
  return def;
}

function validateOptions(options: unknown, path: string, issues: ValidationIssue[]): void {
  if (!Array.isArray(options) || options.length === 0) {
    issues.push({ path, message: 'an enum needs a non-empty array of options' });
    return;
  }
  const seen = new Map<string, number>();
  options.forEach((option, i) => {
    if (typeof option !== 'string' || option.trim() === '') {
      issues.push({ path: `${path}[${i}]`, message: 'expected a non-blank text' });
      return;
    }
    if (option.length > LIMITS.textLength) {
      issues.push({ path: `${path}[${i}]`, message: `an option is at most ${LIMITS.textLength} characters` });
      return;
    }
    const folded = fold(option);
    const first = seen.get(folded);
    if (first !== undefined) {
      issues.push({ path: `${path}[${i}]`, message: `"${option}" repeats options[${first}] (options are compared case-insensitively)` });
    } else {
      seen.set(folded, i);
    }
  });
}

/** A schema looked up by key. */
export type SchemaIndex = ReadonlyMap<string, AttributeDef>;

export function indexSchema(schema: Schema): SchemaIndex {
  return new Map(schema.map((a) => [a.key, a]));
}
