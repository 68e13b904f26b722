// The HTTP server: Fastify with TypeBox schemas (unknown fields are refused, never stripped), every
// error an RFC 9457 problem, every /v1 route behind a token and scoped to the token's workspace,
// OpenAPI 3.1 at /openapi.json and browsable at /docs.
import { STATUS_CODES } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Type } from 'typebox';
import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { App } from '../app.js';
import { TokenCache, authHook } from './auth.js';
import { JSON_BODY_LIMIT } from './limits.js';
import { HttpProblem, errorHandler, sendProblem, problemOf } from './problems.js';
import { refuseUnstorableText } from './storable.js';
import { attributeRoutes } from './routes/attributes.js';
import { contactRoutes } from './routes/contacts.js';
import { eventRoutes } from './routes/events.js';
import { importRoutes } from './routes/imports.js';
import { segmentRoutes } from './routes/segments.js';
import { tokenRoutes } from './routes/tokens.js';
import { webhookRoutes } from './routes/webhooks.js';
import { workspaceRoutes } from './routes/workspace.js';


export interface ServerOptions {
  /** Structured logs (pino); none when absent. */
  readonly logger?: FastifyBaseLogger;
  /** Webhook targets on loopback or private addresses are allowed (SEGMENTS_ALLOW_PRIVATE_WEBHOOKS=1; tests). */
  readonly allowPrivateWebhooks?: boolean;
}

export async function buildServer(app: App, options: ServerOptions = {}): Promise<FastifyInstance> {
  const server = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: JSON_BODY_LIMIT,
    // Typos are 400s naming the field: Ajv must not strip unknown properties or coerce body types.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: true } },
    // An id is at most 255 characters, which URL-encoded can be ~3 KB; the router's default (100)
    // refused contact ids of 101 to 255 characters with a bare 414. Longer ids are a 400 (IdParams).
    routerOptions: { maxParamLength: 4096 },
    // The router's own refusals (a malformed %-escape, a path parameter over that limit) as problems.
    frameworkErrors: (error, _request, reply) => sendProblem(reply, problemOf(error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new HttpProblem(414, 'uri_too_long', 'The URL is too long', 'a path parameter is at most 4096 characters')
      : error.code === 'FST_ERR_BAD_URL' ? new HttpProblem(400, 'bad_url', 'The URL is not valid', error.message) : error)),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // What Node refuses before Fastify sees a request (a URL or headers over 16 KiB, a malformed
    // request line) is a problem too, not Fastify's default {"error", "message"} JSON.
    clientErrorHandler: (error, socket) => {
      const code = (error as { code?: string }).code;
      if (code === 'ECONNRESET' || socket.destroyed) return;
      const problem = problemOf(code === 'HPE_HEADER_OVERFLOW'
        ? new HttpProblem(431, 'headers_too_large', 'The URL or headers are too large', 'the URL and headers are at most 16 KiB: send a large condition in the body of POST /v1/contacts/search')
        : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? new HttpProblem(408, 'request_timeout', 'The request took too long')
          : new HttpProblem(400, 'bad_request', 'The request is not valid HTTP'));
      const body = JSON.stringify(problem);
      if (socket.writable) {
        socket.write(`HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/problem+json\r\nConnection: close\r\n\r\n${body}`);
      }
      socket.destroy(error);
    },
  });
  // JSON only: Fastify's default text/plain parser would hand a string to routes that expect an
  // object (a misleading 400 "expected object"); another content type is a 415 problem.
  server.removeContentTypeParser('text/plain');
  // Many HTTP clients send `Content-Type: application/json` on every request, a DELETE with no body
  // included; Fastify would refuse the empty body as invalid JSON before the route runs. A route
  // that takes no body ignores the header when there is no body; one that takes a body still says
  // "the body is empty".
  server.addHook('onRequest', async (request) => {
    const { headers } = request;
    if (headers['content-type'] !== undefined && request.routeOptions.schema?.body === undefined
      && headers['transfer-encoding'] === undefined && (headers['content-length'] === undefined || headers['content-length'] === '0')) {
      delete headers['content-type'];
    }
  });
  server.decorateRequest('principal', null);
  server.setErrorHandler(errorHandler);
  // A path that exists with other methods is a 405 with the methods it takes (Allow), not a 404.
  const routes: Array<{ method: string; path: RegExp }> = [];
  server.addHook('onRoute', (route) => {
    const pattern = route.url.split('/').map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/');
    for (const method of [route.method].flat()) routes.push({ method, path: new RegExp(`^${pattern}$`) });
  });
  server.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    const allowed = [...new Set(routes.filter((r) => r.path.test(path)).map((r) => r.method))];
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      reply.header('allow', allowed.join(', '));
      return sendProblem(reply, problemOf(new HttpProblem(405, 'method_not_allowed', 'Method not allowed', `${path} takes ${allowed.join(', ')}, not ${request.method}`)));
    }
    return sendProblem(reply, problemOf(new HttpProblem(404, 'not_found', 'Not found', `no route ${request.method} ${path}`)));
  });

  await server.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Segments API', version: '1', description: 'Customer segments for support and messaging teams. Every error is an RFC 9457 problem (application/problem+json).' },
      components: { securitySchemes: { token: { type: 'http', scheme: 'bearer', description: 'An API token of the workspace (admin or agent)' } } },
      security: [{ token: [] }],
    },
  });
  await server.register(swaggerUi, { routePrefix: '/docs' });

  server.get('/health', { schema: { hide: true } }, async () => {
    await app.database.db.selectFrom('workspaces').select('id').limit(1).execute();
    return { status: 'ok', database: app.database.dialect };
  });
  server.get('/openapi.json', { schema: { hide: true } }, async () => server.swagger());

  const tokens = new TokenCache(app.database);
  // Everything under /v1 needs a token; health, the OpenAPI document and the docs do not.
  await server.register(async (v1) => {
    v1.addHook('onRequest', authHook(tokens));
    v1.addHook('preValidation', refuseUnstorableText);
    // A route that reads no query parameter refuses any, as the others refuse an unknown one: a
    // misspelt `?limt=5` is an error, not a silent full list.
    v1.addHook('onRoute', (route) => {
      route.schema ??= {};
      route.schema.querystring ??= Type.Object({}, { additionalProperties: false });
    });
    await workspaceRoutes(v1, app);
    await tokenRoutes(v1, app, tokens);
    await attributeRoutes(v1, app);
    await contactRoutes(v1, app);
    await importRoutes(v1, app);
    await segmentRoutes(v1, app);
    await eventRoutes(v1, app);
    await webhookRoutes(v1, app, { allowPrivate: options.allowPrivateWebhooks ?? false });
  }, { prefix: '/v1' });
  return server;
}
