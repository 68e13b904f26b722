// POST /v1/contacts/import: a CSV or JSON Lines upload (multipart/form-data with a `file` part, or the
// file as the body with Content-Type text/csv or application/x-ndjson), streamed to a temporary file
// and imported in the background as a job; GET /v1/imports/{id} reads its progress, ledger and
// rejections, GET /v1/imports the workspace's imports, newest first. On shutdown a running import
// stops between batches and reads as `stopped`: uploading the same file again completes it.
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Static } from 'typebox';
import type { App } from '../../app.js';
import { ImportRefused, ImportStopped, formatOfFileName, importContacts } from '../../contacts/import/import-contacts.js';
import type { ImportFormat } from '../../contacts/import/import-contacts.js';
import { createImportJob, getImportJob, listImportJobs, updateImportJob } from '../../contacts/import/import-jobs.js';
import type { ImportJob } from '../../contacts/import/import-jobs.js';
import { writeTransaction } from '../../db/write-transaction.js';
import { principalOf } from '../auth.js';
import { HttpProblem } from '../problems.js';
import { IdParams, iso, pageLimit, problems } from '../schemas.js';
import { UPLOAD_LIMIT } from '../limits.js';

const CSV_TYPES = ['text/csv', 'application/csv'];
const JSONL_TYPES = ['application/x-ndjson', 'application/jsonl', 'application/x-jsonlines', 'application/jsonlines'];

const JobSchema = Type.Object({
  id: Type.String(), status: Type.String({ description: 'running, done, refused or stopped' }), format: Type.String(), bytes: Type.Integer(),
  ledger: Type.Object({
    rows_read: Type.Integer(), created: Type.Integer(), updated: Type.Integer(), unchanged: Type.Integer(), rejected: Type.Integer(), bytes_read: Type.Integer(),
    rejections: Type.Array(Type.Object({ row: Type.Integer(), line: Type.Integer(), column: Type.Optional(Type.String()), reason: Type.String() })),
    rejections_omitted: Type.Integer(),
  }),
  detail: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(), updated_at: Type.String(),
});
const ListQuery = Type.Object({
  limit: Type.Optional(Type.String({ maxLength: 20, description: 'imports per page, 1 to 100 (default 20)' })),
  cursor: Type.Optional(Type.String({ maxLength: 100, description: 'the next_cursor of the previous page' })),
}, { additionalProperties: false });
const ImportQuery = Type.Object({ format: Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('jsonl')])) }, { additionalProperties: false });

const view = (j: ImportJob) => ({
  id: j.id, status: j.status, format: j.format, bytes: j.bytes,
  ledger: {
    rows_read: j.ledger.rowsRead, created: j.ledger.created, updated: j.ledger.updated, unchanged: j.ledger.unchanged, rejected: j.ledger.rejected,
    bytes_read: j.ledger.bytesRead, rejections: [...(j.ledger.rejections ?? [])], rejections_omitted: j.ledger.rejectionsOmitted ?? 0,
  },
  detail: j.detail, created_at: iso(j.createdMs)!, updated_at: iso(j.updatedMs)!,
});

/** The upload's bytes and the format its content type, file name or `?format=` says. */
async function readUpload(request: FastifyRequest, format: ImportFormat | undefined): Promise<{ stream: Readable; format: ImportFormat | null }> {
  if (request.isMultipart()) {
    const part = await request.file({ limits: { fileSize: UPLOAD_LIMIT, files: 1 } });
    if (!part) throw new HttpProblem(400, 'invalid_input', 'The request is not valid', undefined, [{ path: 'file', message: 'expected a file part' }]);
    return { stream: part.file, format: format ?? formatOfFileName(part.filename) ?? typeFormat(part.mimetype) };
  }
  // An empty body reaches no parser (and its content type is dropped: server.ts): say it is empty
  // rather than blame the content type.
  if (request.body === undefined || request.body === null) {
    throw new HttpProblem(400, 'invalid_input', 'The request is not valid', 'the upload is empty', [{ path: 'body', message: 'empty: send the file\'s contents' }]);
  }
  // A JSON body reaches this route parsed (the JSON parser is the server's), not as a stream: it
  // was a 500 (resume() of an object); it is a 415 like any other type the import does not take.
  if (!(request.body instanceof Readable)) throw unsupportedType();
  return { stream: request.body, format: format ?? typeFormat(request.headers['content-type'] ?? '') };
}

const unsupportedType = () => new HttpProblem(415, 'unsupported_media_type', 'The content type is not accepted', 'send text/csv or application/x-ndjson, a .csv / .jsonl file part, or ?format=csv|jsonl');

function typeFormat(contentType: string): ImportFormat | null {
  const type = contentType.split(';')[0].trim().toLowerCase();
  return CSV_TYPES.includes(type) ? 'csv' : JSONL_TYPES.includes(type) ? 'jsonl' : null;
}

/** Copies the upload to a file, refusing it past the limit. */
async function saveUpload(stream: Readable, path: string): Promise<number> {
  let bytes = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (bytes > UPLOAD_LIMIT) done(new HttpProblem(413, 'body_too_large', 'The body is too large', `an upload is at most ${UPLOAD_LIMIT} bytes`));
      else done(null, chunk);
    },
  });
  await pipeline(stream, count, createWriteStream(path));
  if ((stream as { truncated?: boolean }).truncated) throw new HttpProblem(413, 'body_too_large', 'The body is too large', `an upload is at most ${UPLOAD_LIMIT} bytes`);
  return bytes;
}

export async function importRoutes(v1: FastifyInstance, app: App): Promise<void> {
  const running = new Set<Promise<void>>();
  let closing = false;
  v1.addHook('onClose', async () => {
    closing = true;
    await Promise.allSettled([...running]);
  });

  async function run(workspaceId: string, job: ImportJob, dir: string, file: string): Promise<void> {
    // Updates are written one after another, so a late progress report never overwrites the end.
    let written: Promise<void> = Promise.resolve();
    const update = (change: Parameters<typeof updateImportJob>[3]) => {
      written = written.catch(() => undefined).then(() => writeTransaction(app.database, (tx) => updateImportJob(tx, workspaceId, job.id, change)));
      return written;
    };
    try {
      const ledger = await importContacts(app.contacts, workspaceId, { path: file }, {
        format: job.format,
        onProgress: (progress) => {
          if (closing) throw new Error('the server is shutting down');
          void update({ ledger: progress }).catch(() => undefined);
        },
      });
      await update({ status: 'done', ledger });
    } catch (error) {
      if (error instanceof ImportRefused) await update({ status: 'refused', ledger: job.ledger, detail: error.message });
      else if (error instanceof ImportStopped) await update({ status: 'stopped', ledger: error.ledger, detail: `${error.message}; upload the same file again to complete it` });
      else await update({ status: 'stopped', ledger: job.ledger, detail: error instanceof Error ? error.message : String(error) });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  await v1.register(async (scope) => {
    await scope.register(multipart);
    // A raw CSV or JSON Lines body reaches the route as a stream, unbuffered and unparsed.
    scope.addContentTypeParser([...CSV_TYPES, ...JSONL_TYPES], { bodyLimit: UPLOAD_LIMIT }, (_request, payload, done) => done(null, payload));

    scope.post<{ Querystring: Static<typeof ImportQuery> }>('/contacts/import', {
      schema: {
        tags: ['contacts'], summary: 'Import contacts from a CSV or JSON Lines file, in the background (poll the job)', querystring: ImportQuery,
        consumes: ['multipart/form-data', ...CSV_TYPES, ...JSONL_TYPES],
        response: { 202: JobSchema, ...problems(400, 401, 403, 413, 415) },
      },
    }, async (request, reply) => {
      const ws = principalOf(request).workspaceId;
      const upload = await readUpload(request, request.query.format);
      if (upload.format === null) {
        upload.stream.resume();
        throw unsupportedType();
      }
      const dir = await mkdtemp(join(tmpdir(), 'segments-import-'));
      const file = join(dir, 'upload');
      let bytes: number;
      try {
        bytes = await saveUpload(upload.stream, file);
      } catch (error) {
        await rm(dir, { recursive: true, force: true });
        throw error;
      }
      const job = await writeTransaction(app.database, (tx) => createImportJob(tx, ws, upload.format!, bytes));
      const task = run(ws, job, dir, file);
      running.add(task);
      void task.finally(() => running.delete(task));
      return reply.code(202).header('location', `/v1/imports/${job.id}`).send(view(job));
    });
  });

  v1.get<{ Querystring: Static<typeof ListQuery> }>('/imports', {
    schema: {
      tags: ['contacts'], summary: 'The workspace\'s imports, newest first (cursor pages)', querystring: ListQuery,
      response: { 200: Type.Object({ data: Type.Array(JobSchema), next_cursor: Type.Union([Type.String(), Type.Null()]) }), ...problems(400, 401, 403) },
    },
  }, async (request) => {
    const page = await listImportJobs(app.database.db, principalOf(request).workspaceId, { limit: pageLimit(request.query.limit, 20, 100), cursor: request.query.cursor });
    return { data: page.jobs.map(view), next_cursor: page.next };
  });

  v1.get<{ Params: Static<typeof IdParams> }>('/imports/:id', {
    schema: { tags: ['contacts'], summary: 'An import job: status, the ledger so far, rejections', params: IdParams, response: { 200: JobSchema, ...problems(401, 403, 404) } },
  }, async (request) => view(await getImportJob(app.database.db, principalOf(request).workspaceId, request.params.id)));
}
