// A workspace's configuration version: every change of its schema, time zone or definitions bumps
// it, so every process recompiles its cached state (src/segments/workspace-state.ts).
import type { Tx } from '../db/write-transaction.js';

export async function bumpConfigVersion(tx: Tx, workspaceId: string): Promise<void> {
  await tx.updateTable('workspaces').set((eb) => ({ config_version: eb('config_version', '+', 1) })).where('id', '=', workspaceId).execute();
}
