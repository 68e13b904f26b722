// API tokens: each belongs to one workspace and carries a role. Only a SHA-256 digest is stored:
// the tokens are 192 random bits, so a fast digest is safe, and a lookup costs one indexed read
// (bcrypt would cost ~50 ms a request). The token itself is shown once, when it is created.
import { createHash, randomBytes } from 'node:crypto';
import type { Tx } from '../db/write-transaction.js';
import { InvalidInput, NotFound } from '../errors.js';

export type Role = 'admin' | 'agent';

/** Who a request acts as. */
export interface Principal {
  readonly workspaceId: string;
  readonly role: Role;
  readonly tokenId: string;
  /** An agent token's agent and teams: what hides segments from it. */
  readonly agentId: string | null;
  readonly teams: readonly string[];
}

export interface TokenRecord {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly agentId: string | null;
  readonly teams: readonly string[];
  /** The token's first characters, to tell tokens apart in a list. */
  readonly prefix: string;
  readonly createdMs: number;
  readonly revokedMs: number | null;
}

export interface TokenInput {
  readonly name?: unknown;
  readonly role?: unknown;
  readonly agent_id?: unknown;
  readonly teams?: unknown;
}

const TOKEN_PREFIX = 'sgt_';
/** An agent's or team's id, as the platform using Segments names them. */
export const PRINCIPAL_ID = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$/;

export const digestOf = (token: string): string => createHash('sha256').update(token).digest('hex');

type Row = { id: string; name: string; role: Role; agent_id: string | null; teams: string; prefix: string; created_ms: number | string; revoked_ms: number | string | null };
const toRecord = (r: Row): TokenRecord => ({
  id: r.id, name: r.name, role: r.role, agentId: r.agent_id, teams: JSON.parse(r.teams) as string[], prefix: r.prefix,
  createdMs: Number(r.created_ms), revokedMs: r.revoked_ms === null ? null : Number(r.revoked_ms),
});
const COLUMNS = ['id', 'name', 'role', 'agent_id', 'teams', 'prefix', 'created_ms', 'revoked_ms'] as const;

function checkInput(input: TokenInput): { name: string; role: Role; agentId: string | null; teams: string[] } {
  const issues: { path: string; message: string }[] = [];
  const { name, role, agent_id: agentId, teams } = input;
  if (typeof name !== 'string' || name.trim() === '' || name.length > 200) issues.push({ path: 'name', message: 'expected a non-blank text of at most 200 characters' });
  if (role !== 'admin' && role !== 'agent') issues.push({ path: 'role', message: 'expected "admin" or "agent"' });
  if (agentId !== undefined && agentId !== null && (typeof agentId !== 'string' || !PRINCIPAL_ID.test(agentId))) {
    issues.push({ path: 'agent_id', message: 'expected an id of letters, digits and _ . : @ -, at most 128' });
  }
  if (teams !== undefined && (!Array.isArray(teams) || teams.length > 100)) issues.push({ path: 'teams', message: 'expected an array of at most 100 team ids' });
  else (teams as unknown[] | undefined)?.forEach((t, i) => {
    if (typeof t !== 'string' || !PRINCIPAL_ID.test(t)) issues.push({ path: `teams[${i}]`, message: 'expected an id of letters, digits and _ . : @ -, at most 128' });
  });
  if (issues.length > 0) throw new InvalidInput('invalid token', issues);
  return { name: (name as string).trim(), role: role as Role, agentId: (agentId as string | null | undefined) ?? null, teams: [...new Set((teams as string[] | undefined) ?? [])] };
}

/** Creates a token; the returned `token` is the only time it is ever seen. */
export async function createToken(tx: Tx, workspaceId: string, input: TokenInput, now = Date.now()): Promise<{ token: string; record: TokenRecord }> {
  const c = checkInput(input);
  const token = TOKEN_PREFIX + randomBytes(24).toString('base64url');
  const id = `tok_${randomBytes(8).toString('hex')}`;
  await tx.insertInto('api_tokens').values({
    id, workspace_id: workspaceId, name: c.name, role: c.role, agent_id: c.agentId, teams: JSON.stringify(c.teams),
    digest: digestOf(token), prefix: token.slice(0, TOKEN_PREFIX.length + 6), created_ms: now, revoked_ms: null,
  }).execute();
  return { token, record: { id, name: c.name, role: c.role, agentId: c.agentId, teams: c.teams, prefix: token.slice(0, TOKEN_PREFIX.length + 6), createdMs: now, revokedMs: null } };
}

export async function listTokens(db: Tx, workspaceId: string): Promise<TokenRecord[]> {
  return (await db.selectFrom('api_tokens').select(COLUMNS).where('workspace_id', '=', workspaceId).orderBy('created_ms').orderBy('id').execute()).map(toRecord);
}

export async function revokeToken(tx: Tx, workspaceId: string, id: string, now = Date.now()): Promise<TokenRecord> {
  const row = await tx.selectFrom('api_tokens').select(COLUMNS).where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFound('token', id);
  if (row.revoked_ms === null) {
    await tx.updateTable('api_tokens').set({ revoked_ms: now }).where('workspace_id', '=', workspaceId).where('id', '=', id).execute();
  }
  return toRecord({ ...row, revoked_ms: row.revoked_ms ?? now });
}

/** The principal a presented token acts as, or null (unknown or revoked). */
export async function authenticate(db: Tx, token: string): Promise<Principal | null> {
  if (!token.startsWith(TOKEN_PREFIX) || token.length > 100) return null;
  const row = await db.selectFrom('api_tokens').select(['id', 'workspace_id', 'role', 'agent_id', 'teams', 'revoked_ms'])
    .where('digest', '=', digestOf(token)).executeTakeFirst();
  if (!row || row.revoked_ms !== null) return null;
  return { workspaceId: row.workspace_id, role: row.role, tokenId: row.id, agentId: row.agent_id, teams: JSON.parse(row.teams) as string[] };
}
