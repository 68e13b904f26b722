// GET /v1/events: the membership event feed (admin): entered / left / deleted, in order, a page at a
// time. `next_cursor` is where to read on from, also when the page is empty: poll with it.
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Static } from 'typebox';
import type { App } from '../../app.js';
import { InvalidInput } from '../../errors.js';
import { readEvents } from '../../segments/event-feed.js';
import { principalOf } from '../auth.js';
import { PageQuery, iso, pageLimit, problems } from '../schemas.js';

const EventSchema = Type.Object({
  id: Type.String({ description: 'the event\'s number in the workspace\'s feed (increasing, in commit order), as text' }),
  type: Type.String({ description: 'segment.entered, segment.left or segment.deleted' }),
  timestamp: Type.String(),
  data: Type.Object({ segment_id: Type.String(), segment_version: Type.Integer(), contact_id: Type.Union([Type.String(), Type.Null()]) }),
});
const EventsQuery = Type.Object(PageQuery, { additionalProperties: false });

/** A cursor that is an event's sequence number (this feed's, and a webhook's deliveries'); 0 when absent. */
export function readSeqCursor(cursor: string | undefined): number {
  if (cursor === undefined || cursor === '') return 0;
  if (!/^\d{1,15}$/.test(cursor)) throw new InvalidInput('invalid page', [{ path: 'cursor', message: 'not a cursor this feed returned' }]);
  return Number(cursor);
}

export async function eventRoutes(v1: FastifyInstance, app: App): Promise<void> {
  v1.get<{ Querystring: Static<typeof EventsQuery> }>('/events', {
    schema: {
      tags: ['events'], summary: 'Membership events, oldest first, after the cursor', querystring: EventsQuery,
      response: { 200: Type.Object({ data: Type.Array(EventSchema), next_cursor: Type.String() }), ...problems(400, 401, 403) },
    },
  }, async (request) => {
    const after = readSeqCursor(request.query.cursor);
    const events = await readEvents(app.database.db, principalOf(request).workspaceId, after, pageLimit(request.query.limit));
    return {
      data: events.map((e) => ({ id: String(e.seq), type: e.type, timestamp: iso(e.at)!, data: { segment_id: e.segmentId, segment_version: e.segmentVersion, contact_id: e.contactId } })),
      next_cursor: String(events.length > 0 ? events[events.length - 1].seq : after),
    };
  });
}
