// The composition root: the database, migrated, and the services built on it. The CLI (and the
// server, later) wire everything here and nowhere else.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from './config.js';
import { createDatabase } from './db/database.js';
import type { Database } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { ContactWrites } from './segments/contact-writes.js';
import { WorkerWakeup } from './segments/worker.js';
import { WorkspaceStates } from './segments/workspace-state.js';
import { createWorkspace, findWorkspace } from './workspaces/workspace-store.js';

export interface App {
  readonly database: Database;
  readonly states: WorkspaceStates;
  readonly contacts: ContactWrites;
  /** Asks this process's background worker (the server's) for a pass now: a definition was saved. */
  readonly workerWakeup: WorkerWakeup;
  /** The workspace, created (UTC) on first use. */
  ensureWorkspace(id: string): Promise<void>;
  close(): Promise<void>;
}

export async function openApp(config: Config): Promise<App> {
  if (config.database.dialect === 'sqlite' && config.database.filename !== ':memory:') {
    mkdirSync(dirname(config.database.filename), { recursive: true });
  }
  return appOn(createDatabase(config.database));
}

/** The services on an open database (migrated here); closing the app closes the database. */
export async function appOn(database: Database): Promise<App> {
  await migrateToLatest(database);
  const states = new WorkspaceStates();
  return {
    database, states, contacts: new ContactWrites(database, states), workerWakeup: new WorkerWakeup(),
    async ensureWorkspace(id) {
      if (!(await findWorkspace(database.db, id))) {
        await createWorkspace(database, { id }).catch(async (error) => {
          if (!(await findWorkspace(database.db, id))) throw error; // another process created it first
        });
      }
    },
    close: () => database.close(),
  };
}
