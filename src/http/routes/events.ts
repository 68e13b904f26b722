// GET /v1/events: the membership event feed (admin): entered / left / deleted, in order, a page at a
// time. `next_cursor` is where to read on from, also when the page is empty: poll with it.
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Static } from 'typebox';
import type { App } from '../../app.js';
import { InvalidInput } from '../../errors.js';
import { feedEnd, keepsEvent, readEvents, readMatchingEvents } from '../../segments/event-feed.js';
import type { EventFilter } from '../../segments/event-feed.js';
import { principalOf } from '../auth.js';
import { PageQuery, iso, pageLimit, problems } from '../schemas.js';

const EventSchema = Type.Object({
  id: Type.String({ description: 'the event\'s number in the workspace\'s feed (increasing, in commit order), as text' }),
  type: Type.String({ description: 'segment.entered, segment.left or segment.deleted' }),
  timestamp: Type.String(),
  data: Type.Object({ segment_id: Type.String(), segment_version: Type.Integer(), contact_id: Type.Union([Type.String(), Type.Null()]) }),
});
/** The three kinds of membership event, for the feed's filter and a webhook subscription's. */
export const eventTypeSchema = (options: { description?: string } = {}) =>
  Type.Union([Type.Literal('segment.entered'), Type.Literal('segment.left'), Type.Literal('segment.deleted')], options);

const EventsQuery = Type.Object({
  ...PageQuery,
  segment_id: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'only this segment\'s events' })),
  type: Type.Optional(eventTypeSchema({ description: 'only events of this type' })),
}, { additionalProperties: false });

/** A cursor that is an event's sequence number (this feed's, and a webhook's deliveries'); 0 when absent. */
export function readSeqCursor(cursor: string | undefined): number {
  if (cursor === undefined || cursor === '') return 0;
  if (!/^\d{1,15}$/.test(cursor)) throw new InvalidInput('invalid page', [{ path: 'cursor', message: 'not a cursor this feed returned' }]);
  return Number(cursor);
}

export async function eventRoutes(v1: FastifyInstance, app: App): Promise<void> {
  v1.get<{ Querystring: Static<typeof EventsQuery> }>('/events', {
    schema: {
      tags: ['events'], summary: 'Membership events, oldest first, after the cursor; optionally of one segment or one type', querystring: EventsQuery,
      response: { 200: Type.Object({ data: Type.Array(EventSchema), next_cursor: Type.String() }), ...problems(400, 401, 403) },
    },
  }, async (request) => {
    const { segment_id: segmentId, type } = request.query;
    const after = readSeqCursor(request.query.cursor);
    const limit = pageLimit(request.query.limit);
    const ws = principalOf(request).workspaceId;
    // Filtered, a page looks at up to 10,000 events: it may hold fewer than `limit`, or none, and
    // `next_cursor` still moves past what it looked at.
    const filter: EventFilter = { ...(segmentId !== undefined && { segmentIds: [segmentId] }), ...(type !== undefined && { types: [type] }) };
    const { events, next } = segmentId === undefined && type === undefined
      ? await readEvents(app.database.db, ws, after, limit).then((all) => ({ events: all, next: all.length > 0 ? all[all.length - 1].seq : after }))
      : await readMatchingEvents(app.database.db, ws, after, limit, (e) => keepsEvent(filter, e));
    // No cursor this feed gave is past its newest event: a client holding one would skip the
    // events numbered up to it without a word.
    if (events.length === 0 && after > 0) {
      const end = await feedEnd(app.database.db, ws);
      if (after > end) throw new InvalidInput('invalid page', [{ path: 'cursor', message: `past the newest event of this feed (${end}): not a cursor it returned` }]);
    }
    return {
      data: events.map((e) => ({ id: String(e.seq), type: e.type, timestamp: iso(e.at)!, data: { segment_id: e.segmentId, segment_version: e.segmentVersion, contact_id: e.contactId } })),
      next_cursor: String(next),
    };
  });
}
