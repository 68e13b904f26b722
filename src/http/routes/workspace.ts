// GET / PATCH /v1/workspace: the token's workspace, its name and time zone.
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Static } from 'typebox';
import type { App } from '../../app.js';
import { writeTransaction } from '../../db/write-transaction.js';
import { rebuildForTimeZone } from '../../segments/segment-store.js';
import { getWorkspace, updateWorkspace } from '../../workspaces/workspace-store.js';
import type { Workspace } from '../../workspaces/workspace-store.js';
import { principalOf } from '../auth.js';
import { problems } from '../schemas.js';

const WorkspaceSchema = Type.Object({ id: Type.String(), name: Type.String(), time_zone: Type.String() });
const PatchBody = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  time_zone: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'IANA name; changing it rebuilds every dynamic segment' })),
}, { additionalProperties: false });

const view = (w: Workspace) => ({ id: w.id, name: w.name, time_zone: w.timeZone });

export async function workspaceRoutes(v1: FastifyInstance, app: App): Promise<void> {
  v1.get('/workspace', {
    config: { access: 'read' },
    schema: { tags: ['workspace'], summary: 'The token\'s workspace', response: { 200: WorkspaceSchema, ...problems(401) } },
  }, async (request) => view(await getWorkspace(app.database.db, principalOf(request).workspaceId)));

  v1.patch<{ Body: Static<typeof PatchBody> }>('/workspace', {
    schema: { tags: ['workspace'], summary: 'Rename the workspace or change its time zone', body: PatchBody, response: { 200: WorkspaceSchema, ...problems(400, 401, 403) } },
  }, async (request) => {
    const ws = principalOf(request).workspaceId;
    const { workspace, timeZoneChanged } = await writeTransaction(app.database, async (tx) => {
      const changed = await updateWorkspace(tx, ws, { name: request.body.name, timeZone: request.body.time_zone });
      if (changed.timeZoneChanged) await rebuildForTimeZone(tx, ws);
      return changed;
    });
    if (timeZoneChanged) app.workerWakeup.request(); // the segments' rebuilds start now
    return view(workspace);
  });
}
