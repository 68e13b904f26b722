import { it, expect } from 'vitest';
import { postgresTestUrl } from '../db/test-support/postgres.js';
import { startTestServer } from './test-support/server.js';
it('probe', async () => {
  const t = await startTestServer('postgres', await postgresTestUrl());
  t.server.setErrorHandler((e, _r, reply) => { console.log('ERR', e); return reply.code(500).send({}); });
  const tk = await t.request('POST', '/v1/tokens', { json: { name: 'x', role: 'agent', agent_id: 'bot-1' } });
  const r = await t.request('GET', '/v1/segments', { token: tk.body.token });
  console.log(r.status, r.body);
  await t.close();
});
