// The condition language's semantics, written once as data: each row is a schema, a time zone, a
// moment `now`, some contacts, a condition and the ids it must select. Every implementation (the
// predicate; SQL on SQLite and on PostgreSQL) runs the same rows through `runCases`
// (test-support/run-cases.ts). Contract: shared/CONDITION_LANGUAGE.md.
//
// Contacts are written as the contract writes them — a flat object with an `id` and attributes by
// key — holding stored values (text as given, an enum's option, numbers, booleans, lists); a date is
// an ISO-8601 instant with `Z` or an offset, turned into UTC ms by `caseInput`.
import { STANDARD_ATTRIBUTES } from './schema.js';
import type { ConditionJson, Schema } from './types.js';

export type CaseValue = string | number | boolean | readonly string[] | null;
export interface CaseContact { readonly id: string; readonly [key: string]: CaseValue }

export interface Case {
  /** Unique: an implementation that must skip a row names it by its description. */
  readonly description: string;
  /** Defaults to CASE_SCHEMA. */
  readonly schema?: Schema;
  /** IANA name; defaults to UTC. */
  readonly timeZone?: string;
  /** An ISO-8601 instant. */
  readonly now: string;
  readonly contacts: readonly CaseContact[];
  readonly condition: ConditionJson;
  /** The ids of the contacts the condition selects, in any order. */
  readonly expected: readonly string[];
}

/** The standard attributes and one custom attribute of each type. */
export const CASE_SCHEMA: Schema = [
  ...STANDARD_ATTRIBUTES,
  { key: 'plan', type: 'enum', options: ['Free', 'Pro', 'Enterprise', 'ÉLITE'] },
  { key: 'mrr', type: 'number' },
  { key: 'renews_at', type: 'date' },
  { key: 'beta', type: 'boolean' },
  { key: 'skills', type: 'list' },
  { key: 'nickname', type: 'text' },
];

const NOW = '2025-11-03T14:30:00Z';

type Row = readonly [description: string, condition: ConditionJson, expected: readonly string[]];

/** Rows that share their contacts, zone and `now`. */
function rows(base: Omit<Case, 'description' | 'condition' | 'expected' | 'now'> & { now?: string }, list: readonly Row[]): Case[] {
  return list.map(([description, condition, expected]) => ({ now: NOW, ...base, description, condition, expected }));
}

const r = (attr: string, op: string, value?: unknown): ConditionJson =>
  (value === undefined ? { attr, op } : { attr, op, value }) as ConditionJson;

// ---- text ---------------------------------------------------------------------------------------

const TEXT: CaseContact[] = [
  { id: 'platinum', name: 'Platinum' }, { id: 'plus', name: 'platinum plus' }, { id: 'elodie', name: 'ÉLODIE' },
  { id: 'padded', name: ' Platinum' }, { id: 'absent' }, { id: 'null', name: null }, { id: 'blank', name: ' \t' },
  { id: 'empty', name: '' },
];
const TEXT_MISSING = ['absent', 'null', 'blank', 'empty'];

const textCases = rows({ contacts: TEXT }, [
  ['text eq folds case ("PLATINUM" equals "Platinum") and never trims', r('name', 'eq', 'PLATINUM'), ['platinum']],
  ['text eq keeps a leading space', r('name', 'eq', ' platinum'), ['padded']],
  ['text eq folds case, not accents: "élodie" equals "ÉLODIE"', r('name', 'eq', 'élodie'), ['elodie']],
  ['text eq does not strip accents: "elodie" is not "ÉLODIE"', r('name', 'eq', 'elodie'), []],
  ['text neq is not eq, so true on every missing text', r('name', 'neq', 'platinum'), ['plus', 'elodie', 'padded', ...TEXT_MISSING]],
  ['text contains on folded texts', r('name', 'contains', 'PLAT'), ['platinum', 'plus', 'padded']],
  ['text contains: white space counts', r('name', 'contains', ' '), ['plus', 'padded']],
  ['text not_contains is true on missing texts', r('name', 'not_contains', 'plat'), ['elodie', ...TEXT_MISSING]],
  ['text starts_with on folded texts', r('name', 'starts_with', 'platinum'), ['platinum', 'plus']],
  ['text ends_with on folded texts', r('name', 'ends_with', 'NUM'), ['platinum', 'padded']],
  ['text in: eq holds for any element', r('name', 'in', ['x', 'Élodie', 'PLATINUM']), ['platinum', 'elodie']],
  ['text not_in is true on missing texts', r('name', 'not_in', ['x', 'Élodie', 'PLATINUM']), ['plus', 'padded', ...TEXT_MISSING]],
  ['text is_empty: absent, null, blank and empty', r('name', 'is_empty'), TEXT_MISSING],
  ['text is_empty with "value": null', { attr: 'name', op: 'is_empty', value: null } as ConditionJson, TEXT_MISSING],
  ['text is_not_empty', r('name', 'is_not_empty'), ['platinum', 'plus', 'elodie', 'padded']],
  ['text eq "" matches no one: an empty text is missing', r('name', 'eq', ''), []],
  ['text eq a blank text matches no one, not even blank texts', r('name', 'eq', ' \t'), []],
  ['text neq "" matches everyone', r('name', 'neq', ''), TEXT.map((c) => c.id)],
  ['text in blank texts matches no one', r('name', 'in', ['', ' \t']), []],
  ['text not_contains a blank text is true on missing texts', r('name', 'not_contains', ' '), ['platinum', 'elodie', ...TEXT_MISSING]],
]);

const BLANKS: CaseContact[] = [
  { id: 'nbsp', nickname: '\u00a0' }, { id: 'ideographic', nickname: '\u3000' }, { id: 'bom', nickname: '\ufeff' },
  { id: 'line-separator', nickname: '\u2028' }, { id: 'newlines', nickname: ' \r\n\v\f' }, { id: 'ogham', nickname: '\u1680' },
  { id: 'zero-width-space', nickname: '\u200b' }, { id: 'next-line', nickname: '\u0085' }, { id: 'mongolian', nickname: '\u180e' },
];

const blankCases = rows({ contacts: BLANKS }, [
  ["blank is JavaScript's trim set: NBSP, U+3000, BOM, U+2028, U+1680 are blank; U+200B, U+0085, U+180E are not",
    r('nickname', 'is_empty'), ['nbsp', 'ideographic', 'bom', 'line-separator', 'newlines', 'ogham']],
  ['a text of only U+200B is present', r('nickname', 'eq', '\u200b'), ['zero-width-space']],
]);

// ---- text traps: fold is NFKC then lower case -------------------------------------------------

const TRAPS: CaseContact[] = [
  { id: 'ligature', name: 'ﬁle' }, { id: 'full-width', name: 'ＡＢＣ' }, { id: 'dotted-I', name: 'İstanbul' },
  { id: 'caps-I', name: 'ISTANBUL' }, { id: 'dotless-i', name: 'ıstanbul' }, { id: 'eszett', name: 'Straße' },
  { id: 'double-s', name: 'STRASSE' }, { id: 'decomposed', name: 'e\u0301lodie' }, { id: 'ohm', name: '\u2126' },
  { id: 'roman', name: 'Ⅻ' },
];

const trapCases = rows({ contacts: TRAPS }, [
  ['NFKC: the ligature "ﬁle" equals "FILE"', r('name', 'eq', 'FILE'), ['ligature']],
  ['NFKC: full-width "ＡＢＣ" equals "abc"', r('name', 'eq', 'abc'), ['full-width']],
  ['NFKC: a full-width condition value finds the ASCII letter', r('name', 'contains', 'Ｃ'), ['full-width']],
  ['NFKC: the roman numeral Ⅻ equals "xii"', r('name', 'eq', 'XII'), ['roman']],
  ['NFKC: the ohm sign equals omega', r('name', 'eq', 'ω'), ['ohm']],
  ['NFKC composes: decomposed "élodie" equals the composed one', r('name', 'eq', 'élodie'), ['decomposed']],
  ['Turkish: "İstanbul" folds to "i̇stanbul", not "istanbul"', r('name', 'eq', 'istanbul'), ['caps-I']],
  ['Turkish: "İSTANBUL" finds "İstanbul"', r('name', 'eq', 'İSTANBUL'), ['dotted-I']],
  ['Turkish: i + combining dot finds "İstanbul"', r('name', 'eq', 'i\u0307stanbul'), ['dotted-I']],
  ['Turkish: contains "stanbul" finds the three spellings', r('name', 'contains', 'STANBUL'), ['dotted-I', 'caps-I', 'dotless-i']],
  ['Turkish: starts_with "i" finds dotted İ and I, not dotless ı', r('name', 'starts_with', 'I'), ['dotted-I', 'caps-I']],
  ['Turkish: dotless "ı" is its own letter', r('name', 'starts_with', 'ı'), ['dotless-i']],
  ['ß is not "ss": "straße" does not equal "STRASSE"', r('name', 'eq', 'straße'), ['eszett']],
  ['capital ẞ lower-cases to ß', r('name', 'eq', 'STRAẞE'), ['eszett']],
  ['"ss" finds "STRASSE" only', r('name', 'contains', 'ss'), ['double-s']],
]);

const WILDCARDS: CaseContact[] = [
  { id: 'percent', name: '100%' }, { id: 'percent-word', name: '100 percent' }, { id: 'underscore', name: 'a_b' },
  { id: 'x', name: 'axb' }, { id: 'star', name: 'a*b' }, { id: 'dot', name: 'a.b' }, { id: 'backslash', name: 'a\\b' },
  { id: 'question', name: 'a?b' }, { id: 'bracket', name: '[a]b' }, { id: 'quote', name: "o'brien" },
];

const wildcardCases = rows({ contacts: WILDCARDS }, [
  ['% matches itself (contains)', r('name', 'contains', '%'), ['percent']],
  ['% matches itself (ends_with)', r('name', 'ends_with', '0%'), ['percent']],
  ['% is not a wildcard in eq', r('name', 'eq', '100%'), ['percent']],
  ['_ matches itself (eq)', r('name', 'eq', 'a_b'), ['underscore']],
  ['_ matches itself (contains)', r('name', 'contains', '_'), ['underscore']],
  ['_ matches itself (starts_with)', r('name', 'starts_with', 'a_'), ['underscore']],
  ['* matches itself', r('name', 'contains', '*'), ['star']],
  ['* is not a wildcard in starts_with', r('name', 'starts_with', 'a*'), ['star']],
  ['. matches itself', r('name', 'eq', 'a.b'), ['dot']],
  ['. is not a wildcard in ends_with', r('name', 'ends_with', '.b'), ['dot']],
  ['\\ matches itself (contains)', r('name', 'contains', '\\'), ['backslash']],
  ['\\ matches itself (ends_with)', r('name', 'ends_with', '\\b'), ['backslash']],
  ['\\ matches itself (starts_with)', r('name', 'starts_with', 'a\\'), ['backslash']],
  ['? and [ ] match themselves', r('name', 'in', ['a?b', '[a]b']), ['question', 'bracket']],
  ['a quote matches itself', r('name', 'eq', "O'Brien"), ['quote']],
  ['in with pattern characters is exact', r('name', 'in', ['a%b', 'a_b', 'a.*']), ['underscore']],
]);

// ---- enum ---------------------------------------------------------------------------------------

const ENUM: CaseContact[] = [{ id: 'free', plan: 'Free' }, { id: 'pro', plan: 'Pro' }, { id: 'elite', plan: 'ÉLITE' }, { id: 'absent' }, { id: 'null', plan: null }];

const enumCases = rows({ contacts: ENUM }, [
  ['enum eq compares folded: "pro" finds "Pro"', r('plan', 'eq', 'pro'), ['pro']],
  ['enum eq "élite" finds "ÉLITE"', r('plan', 'eq', 'élite'), ['elite']],
  ['enum neq is true on a missing value', r('plan', 'neq', 'FREE'), ['pro', 'elite', 'absent', 'null']],
  ['enum in', r('plan', 'in', ['enterprise', 'free']), ['free']],
  ['enum not_in is true on a missing value', r('plan', 'not_in', ['enterprise', 'free']), ['pro', 'elite', 'absent', 'null']],
  ['enum is_empty', r('plan', 'is_empty'), ['absent', 'null']],
  ['enum is_not_empty', r('plan', 'is_not_empty'), ['free', 'pro', 'elite']],
]);

const platformCases = rows({ contacts: [{ id: 'wa', platform: 'whatsapp' }, { id: 'ig', platform: 'instagram' }, { id: 'none' }] }, [
  ['the standard enum platform compares folded', r('platform', 'eq', 'WhatsApp'), ['wa']],
]);

const trapEnumSchema: Schema = [...STANDARD_ATTRIBUTES, { key: 'tier', type: 'enum', options: ['ﬁne', 'Straße', 'İ'] }];
const trapEnumCases = rows({ schema: trapEnumSchema, contacts: [{ id: 'fine', tier: 'ﬁne' }, { id: 'strasse', tier: 'Straße' }, { id: 'dotted', tier: 'İ' }] }, [
  ['an enum option "ﬁne" is written "FINE" (NFKC)', r('tier', 'eq', 'FINE'), ['fine']],
  ['an enum option "Straße" is written "STRAẞE"', r('tier', 'in', ['STRAẞE']), ['strasse']],
  ['an enum option "İ" is written "i̇"', r('tier', 'eq', 'i\u0307'), ['dotted']],
]);

// ---- number -------------------------------------------------------------------------------------

const NUMBER: CaseContact[] = [
  { id: 'zero', mrr: 0 }, { id: 'big', mrr: 1200 }, { id: 'negative', mrr: -3.5 }, { id: 'near', mrr: 999.99 },
  { id: 'absent' }, { id: 'null', mrr: null },
];

const numberCases = rows({ contacts: NUMBER }, [
  ['number eq 0: zero is a value, not missing', r('mrr', 'eq', 0), ['zero']],
  ['number neq 0 is true on a missing number', r('mrr', 'neq', 0), ['big', 'negative', 'near', 'absent', 'null']],
  ['number gt', r('mrr', 'gt', 999.99), ['big']],
  ['number gte', r('mrr', 'gte', 999.99), ['big', 'near']],
  ['number lt is false on a missing number', r('mrr', 'lt', 0), ['negative']],
  ['number lte', r('mrr', 'lte', 0), ['zero', 'negative']],
  ['number between is inclusive', r('mrr', 'between', [0, 1200]), ['zero', 'big', 'near']],
  ['number between a single value', r('mrr', 'between', [1200, 1200]), ['big']],
  ['number between negative and zero', r('mrr', 'between', [-3.5, 0]), ['zero', 'negative']],
  ['number in', r('mrr', 'in', [0, -3.5, 7]), ['zero', 'negative']],
  ['number not_in is true on a missing number', r('mrr', 'not_in', [0, -3.5, 7]), ['big', 'near', 'absent', 'null']],
  ['number is_empty', r('mrr', 'is_empty'), ['absent', 'null']],
  ['number is_not_empty', r('mrr', 'is_not_empty'), ['zero', 'big', 'negative', 'near']],
]);

const floatCases = rows({ contacts: [{ id: 'sum', mrr: 0.1 + 0.2 }, { id: 'tenth', mrr: 0.3 }, { id: 'huge', mrr: 2 ** 53 }] }, [
  ['numbers are doubles: 0.1 + 0.2 is not 0.3', r('mrr', 'eq', 0.3), ['tenth']],
  ['numbers are doubles: gt 0.3 finds 0.30000000000000004', r('mrr', 'gt', 0.3), ['sum', 'huge']],
  ['a large number compares exactly', r('mrr', 'in', [2 ** 53]), ['huge']],
]);

// ---- boolean ------------------------------------------------------------------------------------

const BOOLEAN: CaseContact[] = [{ id: 'yes', vip: true }, { id: 'no', vip: false }, { id: 'absent' }, { id: 'null', vip: null }];

const booleanCases = rows({ contacts: BOOLEAN }, [
  ['boolean eq true', r('vip', 'eq', true), ['yes']],
  ['boolean eq false is false on a missing boolean', r('vip', 'eq', false), ['no']],
  ['boolean neq true is true on a missing boolean', r('vip', 'neq', true), ['no', 'absent', 'null']],
  ['boolean neq false', r('vip', 'neq', false), ['yes', 'absent', 'null']],
  ['boolean is_empty', r('vip', 'is_empty'), ['absent', 'null']],
  ['boolean is_not_empty: false is a value', r('vip', 'is_not_empty'), ['yes', 'no']],
]);

// ---- list ---------------------------------------------------------------------------------------

const LIST: CaseContact[] = [
  { id: 'both', tags: ['VIP', 'lead'] }, { id: 'vip', tags: ['vip'] }, { id: 'lead-space', tags: ['Lead '] },
  { id: 'blank-element', tags: [' '] }, { id: 'absent' }, { id: 'null', tags: null }, { id: 'empty', tags: [] },
];
const LIST_MISSING = ['absent', 'null', 'empty'];

const listCases = rows({ contacts: LIST }, [
  ['list contains: some element fold-equals the value', r('tags', 'contains', 'vip'), ['both', 'vip']],
  ['list contains is element equality, not a substring', r('tags', 'contains', 'vi'), []],
  ['list contains does not trim elements', r('tags', 'contains', 'LEAD'), ['both']],
  ['list not_contains is true on a missing list', r('tags', 'not_contains', 'vip'), ['lead-space', 'blank-element', ...LIST_MISSING]],
  ['list in: contains any of them', r('tags', 'in', ['lead ', 'x']), ['lead-space']],
  ['list in, several elements', r('tags', 'in', ['LEAD', 'vip']), ['both', 'vip']],
  ['list not_in is true on a missing list', r('tags', 'not_in', ['LEAD', 'x']), ['vip', 'lead-space', 'blank-element', ...LIST_MISSING]],
  ['list is_empty: absent, null, empty list', r('tags', 'is_empty'), LIST_MISSING],
  ['list is_not_empty: a list of a blank text is not an empty list', r('tags', 'is_not_empty'), ['both', 'vip', 'lead-space', 'blank-element']],
  ['list contains a blank element', r('tags', 'contains', ' '), ['blank-element']],
]);

const segmentsSchema: Schema = [...STANDARD_ATTRIBUTES, { key: 'segments', type: 'list' }];
const segmentCases = rows({ schema: segmentsSchema, contacts: [{ id: 'in-both', segments: ['vip', 'churn-risk'] }, { id: 'in-vip', segments: ['vip'] }, { id: 'in-none', segments: [] }, { id: 'absent' }] }, [
  ['segments in a standalone document is a list: contains', r('segments', 'contains', 'vip'), ['in-both', 'in-vip']],
  ['segments in a standalone document is a list: not_in', r('segments', 'not_in', ['churn-risk']), ['in-vip', 'in-none', 'absent']],
  ['segments in a standalone document is a list: is_empty', r('segments', 'is_empty'), ['in-none', 'absent']],
]);

// ---- dates: days in a time zone ---------------------------------------------------------------

// 2025-11-02 in New York is 25 hours long: [04:00Z, 2025-11-03T05:00Z); 01:30 happens twice.
const FALL: CaseContact[] = [
  { id: 'before', last_interaction_at: '2025-11-02T03:59:59.999Z' },
  { id: 'start', last_interaction_at: '2025-11-02T04:00:00Z' },
  { id: 'first-0130', last_interaction_at: '2025-11-02T01:30:00-04:00' },
  { id: 'second-0130', last_interaction_at: '2025-11-02T01:30:00-05:00' },
  { id: 'end', last_interaction_at: '2025-11-03T04:59:59.999Z' },
  { id: 'after', last_interaction_at: '2025-11-03T05:00:00Z' },
  { id: 'absent' }, { id: 'null', last_interaction_at: null },
];
const ON_NOV_2 = ['start', 'first-0130', 'second-0130', 'end'];
const d = (op: string, value?: unknown) => r('last_interaction_at', op, value);

const dayCases = rows({ timeZone: 'America/New_York', contacts: FALL }, [
  ['date eq a day: the whole local day, 25 hours on the DST change', d('eq', '2025-11-02'), ON_NOV_2],
  ['date neq a day is true on a missing date', d('neq', '2025-11-02'), ['before', 'after', 'absent', 'null']],
  ['date gt a day: after the day ends', d('gt', '2025-11-02'), ['after']],
  ['date gte a day: from the day\'s start', d('gte', '2025-11-02'), [...ON_NOV_2, 'after']],
  ['date lt a day: before the day starts', d('lt', '2025-11-02'), ['before']],
  ['date lte a day: until the day ends', d('lte', '2025-11-02'), ['before', ...ON_NOV_2]],
  ['date between [d, d] is the day', d('between', ['2025-11-02', '2025-11-02']), ON_NOV_2],
  ['date between [d1, d2]: from d1\'s start to d2\'s end', d('between', ['2025-11-01', '2025-11-02']), ['before', ...ON_NOV_2]],
  ['date between [instant, day]: the day as a high bound means its end', d('between', ['2025-11-02T01:30:00-05:00', '2025-11-02']), ['second-0130', 'end']],
  ['date between [day, instant]: the day as a low bound means its start', d('between', ['2025-11-02', '2025-11-02T01:30:00-04:00']), ['start', 'first-0130']],
  ['date between days with from after to matches no one', d('between', ['2025-11-03', '2025-11-02']), []],
  ['date between instants with from after to matches no one', d('between', ['2025-11-02T06:30:00Z', '2025-11-02T05:30:00Z']), []],
  ['date eq an instant with an offset: exactly that millisecond', d('eq', '2025-11-02T00:00:00-04:00'), ['start']],
  ['date eq an instant with milliseconds', d('eq', '2025-11-03T04:59:59.999Z'), ['end']],
  ['date eq an instant without seconds', d('eq', '2025-11-02T04:00Z'), ['start']],
  ['date neq an instant', d('neq', '2025-11-02T04:00:00Z'), ['before', 'first-0130', 'second-0130', 'end', 'after', 'absent', 'null']],
  ['date gt an instant is strictly after', d('gt', '2025-11-02T05:30:00Z'), ['second-0130', 'end', 'after']],
  ['date gte an instant', d('gte', '2025-11-02T01:30-04:00'), ['first-0130', 'second-0130', 'end', 'after']],
  ['date lt an instant is strictly before', d('lt', '2025-11-02T04:00Z'), ['before']],
  ['date lte an instant', d('lte', '2025-11-02T04:00:00.000+00:00'), ['before', 'start']],
  ['date is_empty', d('is_empty'), ['absent', 'null']],
  ['date is_not_empty', d('is_not_empty'), ['before', ...ON_NOV_2, 'after']],
]);

const utcDayCases = rows({ contacts: FALL }, [
  ['the same day read in UTC (the default zone)', d('eq', '2025-11-02'), ['before', 'start', 'first-0130', 'second-0130']],
]);

// 2025-03-09 in New York is 23 hours long: [05:00Z, 2025-03-10T04:00Z).
const springCases = rows({ timeZone: 'America/New_York', contacts: [
  { id: 'before', last_interaction_at: '2025-03-09T04:59:59.999Z' }, { id: 'start', last_interaction_at: '2025-03-09T05:00:00Z' },
  { id: 'end', last_interaction_at: '2025-03-10T03:59:59.999Z' }, { id: 'after', last_interaction_at: '2025-03-10T04:00:00Z' },
] }, [
  ['a 23-hour day (New York, 2025-03-09)', d('eq', '2025-03-09'), ['start', 'end']],
  ['lte the 23-hour day', d('lte', '2025-03-09'), ['before', 'start', 'end']],
]);

// Santiago skipped midnight on 2022-09-11: the day starts at 01:00 local, 04:00Z.
const santiagoCases = rows({ timeZone: 'America/Santiago', contacts: [
  { id: 'sep-10-last', last_interaction_at: '2022-09-10T23:59:59.999-04:00' }, { id: 'sep-11-first', last_interaction_at: '2022-09-11T01:00:00-03:00' },
  { id: 'sep-11-last', last_interaction_at: '2022-09-11T23:59:59.999-03:00' }, { id: 'sep-12-first', last_interaction_at: '2022-09-12T00:00:00-03:00' },
] }, [
  ['where midnight does not exist, the day starts at its first instant (Santiago 2022-09-11)', d('eq', '2022-09-11'), ['sep-11-first', 'sep-11-last']],
  ['gte a day whose midnight does not exist', d('gte', '2022-09-11'), ['sep-11-first', 'sep-11-last', 'sep-12-first']],
  ['lt a day whose midnight does not exist', d('lt', '2022-09-11'), ['sep-10-last']],
  ['the day before the skipped midnight ends at 23:59:59.999 -04:00', d('eq', '2022-09-10'), ['sep-10-last']],
]);

// Lord Howe moves by 30 minutes: 2025-10-05 is 23.5 hours long, [2025-10-04T13:30Z, 2025-10-05T13:00Z).
const lordHoweCases = rows({ timeZone: 'Australia/Lord_Howe', contacts: [
  { id: 'before', last_interaction_at: '2025-10-04T13:29:59.999Z' }, { id: 'start', last_interaction_at: '2025-10-04T13:30:00Z' },
  { id: 'end', last_interaction_at: '2025-10-05T12:59:59.999Z' }, { id: 'after', last_interaction_at: '2025-10-05T13:00:00Z' },
] }, [
  ['a 23.5-hour day (Lord Howe, 2025-10-05)', d('eq', '2025-10-05'), ['start', 'end']],
  ['gt a 23.5-hour day', d('gt', '2025-10-05'), ['after']],
]);

// Havana falls back at 01:00 to 00:00 on 2025-11-02: midnight happens twice; the day starts at the first.
const havanaCases = rows({ timeZone: 'America/Havana', contacts: [
  { id: 'nov-1-last', last_interaction_at: '2025-11-01T23:59:59.999-04:00' }, { id: 'first-midnight', last_interaction_at: '2025-11-02T00:00:00-04:00' },
  { id: 'second-midnight', last_interaction_at: '2025-11-02T00:00:00-05:00' }, { id: 'nov-2-last', last_interaction_at: '2025-11-02T23:59:59.999-05:00' },
] }, [
  ['where midnight happens twice, the day starts at the first (Havana 2025-11-02)', d('eq', '2025-11-02'), ['first-midnight', 'second-midnight', 'nov-2-last']],
  ['lt a day whose midnight happens twice', d('lt', '2025-11-02'), ['nov-1-last']],
]);

// Beirut skips 00:00–01:00 on 2025-03-30: the day starts at 01:00 local, 22:00Z the day before.
const beirutCases = rows({ timeZone: 'Asia/Beirut', contacts: [
  { id: 'mar-29-last', last_interaction_at: '2025-03-29T21:59:59.999Z' }, { id: 'mar-30-first', last_interaction_at: '2025-03-29T22:00:00Z' },
] }, [
  ['a skipped midnight in Beirut (2025-03-30)', d('gte', '2025-03-30'), ['mar-30-first']],
]);

const kathmanduCases = rows({ timeZone: 'Asia/Kathmandu', contacts: [
  { id: 'before', last_interaction_at: '2024-12-31T18:14:59.999Z' }, { id: 'start', last_interaction_at: '2024-12-31T18:15:00Z' },
] }, [
  ['a day in a +05:45 zone starts at 18:15Z the day before', d('eq', '2025-01-01'), ['start']],
]);

// ---- dates: relative to now ---------------------------------------------------------------------

// now = 2025-11-03T14:30:00Z; now − 30 days = 2025-10-04T14:30:00Z (24-hour days, across New York's DST change).
const RELATIVE: CaseContact[] = [
  { id: 'out', last_interaction_at: '2025-10-04T14:29:59.999Z' },
  { id: 'edge', last_interaction_at: '2025-10-04T14:30:00Z' },
  { id: 'calendar', last_interaction_at: '2025-10-04T13:30:00Z' }, // same local time as now, 30 calendar days back
  { id: 'in', last_interaction_at: '2025-10-04T14:30:00.001Z' },
  { id: 'now', last_interaction_at: '2025-11-03T14:30:00Z' },
  { id: 'future', last_interaction_at: '2025-11-03T14:30:00.001Z' },
  { id: 'next-edge', last_interaction_at: '2025-11-10T14:30:00Z' },
  { id: 'next-out', last_interaction_at: '2025-11-10T14:30:00.001Z' },
  { id: 'absent' }, { id: 'null', last_interaction_at: null },
];
const span = (amount: number, unit: string) => ({ amount, unit });

const relativeCases = rows({ timeZone: 'America/New_York', contacts: RELATIVE }, [
  ['within_last: now − span ≤ t ≤ now, inclusive at both ends', d('within_last', span(30, 'days')), ['edge', 'in', 'now']],
  ['older_than: t < now − span; a missing date is not older', d('older_than', span(30, 'days')), ['out', 'calendar']],
  ['not older_than is true on a missing date', { not: d('older_than', span(30, 'days')) }, ['edge', 'in', 'now', 'future', 'next-edge', 'next-out', 'absent', 'null']],
  ['within_next: now ≤ t ≤ now + span', d('within_next', span(7, 'days')), ['now', 'future', 'next-edge']],
  ['weeks are 7 × 24 hours', d('within_next', span(1, 'weeks')), ['now', 'future', 'next-edge']],
  ['hours: within_last 721 hours reaches one hour before the 30-day edge', d('within_last', span(721, 'hours')), ['out', 'edge', 'calendar', 'in', 'now']],
  ['minutes: older_than 43200 minutes is older_than 30 days', d('older_than', span(43200, 'minutes')), ['out', 'calendar']],
  ['within_next the largest span', d('within_next', span(1_000_000, 'weeks')), ['now', 'future', 'next-edge', 'next-out']],
  ['within_last the largest span', d('within_last', span(1_000_000, 'minutes')), ['out', 'edge', 'calendar', 'in', 'now']],
  ['inactive 30+ days, or never seen', { any: [d('older_than', span(30, 'days')), d('is_empty')] }, ['out', 'calendar', 'absent', 'null']],
]);

const minuteCases = rows({ now: '2025-11-03T14:30:00.500Z', contacts: [
  { id: 'edge', last_interaction_at: '2025-11-03T13:00:00.500Z' }, { id: 'out', last_interaction_at: '2025-11-03T13:00:00.499Z' },
] }, [
  ['a relative span keeps the milliseconds of now', d('within_last', span(90, 'minutes')), ['edge']],
]);

// ---- groups -------------------------------------------------------------------------------------

const PEOPLE: CaseContact[] = [
  { id: 'ana', name: 'Ana', mrr: 1200, vip: true }, { id: 'bob', name: 'Bob', mrr: 10, vip: false },
  { id: 'cy', name: 'Cy' }, { id: 'dee' },
];
const ALL_PEOPLE = PEOPLE.map((c) => c.id);
const rich = r('mrr', 'gt', 100);
const notNot = (c: ConditionJson, n: number): ConditionJson => (n === 0 ? c : { not: notNot(c, n - 1) });

const groupCases = rows({ contacts: PEOPLE }, [
  ['an empty all matches everyone', { all: [] }, ALL_PEOPLE],
  ['an empty any matches no one', { any: [] }, []],
  ['not of an empty all matches no one', { not: { all: [] } }, []],
  ['not of an empty any matches everyone', { not: { any: [] } }, ALL_PEOPLE],
  ['all holding an empty any matches no one', { all: [{ any: [] }] }, []],
  ['any holding an empty all matches everyone', { any: [{ all: [] }] }, ALL_PEOPLE],
  ['AND within a group, OR between groups', { any: [{ all: [r('vip', 'eq', true), rich] }, { all: [r('name', 'eq', 'cy')] }] }, ['ana', 'cy']],
  ['not is the complement, missing values included', { not: rich }, ['bob', 'cy', 'dee']],
  ['not not is the condition', { not: { not: rich } }, ['ana']],
  ['a missing boolean is neither true nor false', { not: { any: [r('vip', 'eq', true), r('vip', 'eq', false)] } }, ['cy', 'dee']],
  ['a rule and its not partition the contacts', { any: [rich, { not: rich }] }, ALL_PEOPLE],
  ['all of a rule and its not matches no one', { all: [rich, { not: rich }] }, []],
  ['eight nested nots (the depth limit) is the condition', notNot(rich, 8), ['ana']],
  ['nested groups three deep', { all: [{ any: [{ all: [r('name', 'starts_with', 'a'), rich] }, r('vip', 'eq', false)] }, { not: r('name', 'is_empty') }] }, ['ana', 'bob']],
  ['a group of one rule is the rule', { all: [{ any: [rich] }] }, ['ana']],
]);

// ---- keys that a plain object already has -----------------------------------------------------

const constructorSchema: Schema = [...STANDARD_ATTRIBUTES, { key: 'constructor', type: 'text' }];
const constructorCases = rows({ schema: constructorSchema, contacts: [{ id: 'set', constructor: 'Ana' }, { id: 'unset' }] }, [
  ['an attribute named constructor is missing when the contact has none', r('constructor', 'is_empty'), ['unset']],
  ['an attribute named constructor compares as text', r('constructor', 'neq', 'ana'), ['unset']],
]);

// ---- regressions found by the property tests ------------------------------------------------------

// None yet: no property test has failed on the core. A counterexample becomes a row here, shrunk.
const regressionCases: Case[] = [];

export const CASES: readonly Case[] = [
  ...textCases, ...blankCases, ...trapCases, ...wildcardCases,
  ...enumCases, ...platformCases, ...trapEnumCases,
  ...numberCases, ...floatCases, ...booleanCases, ...listCases, ...segmentCases,
  ...dayCases, ...utcDayCases, ...springCases, ...santiagoCases, ...havanaCases, ...beirutCases, ...lordHoweCases, ...kathmanduCases,
  ...relativeCases, ...minuteCases,
  ...groupCases, ...constructorCases,
  ...regressionCases,
];
