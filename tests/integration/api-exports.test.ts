import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBundle } from '../../bridge-server/src/archive/export/verify-bundle.js';
import { useApiWorld, users } from '../support/api-world.js';

const api = useApiWorld();
const chat = { X: '', Y: '' };
let work = '';

/** Downloads a bundle as `user`; the raw answer, its bytes and the hash header. */
async function download(token: string, body: unknown) {
  const response = await fetch(`${api.world.bridge.url}/api/exports`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const bytes = Buffer.from(await response.arrayBuffer());
  return { status: response.status, type: response.headers.get('content-type') ?? '', sha: response.headers.get('x-bundle-sha256'), disposition: response.headers.get('content-disposition') ?? '', bytes };
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'wab-api-export-'));
  const x = await api.clientWrites('447700900701', 'The completion date is fixed', { name: 'Xavier' });
  const y = await api.clientWrites('447700900702', 'About the custody hearing', { name: 'Yolanda' });
  const admin = api.as(users.admin);
  const ali = (await api.as(users.solicitorA)('POST', '/api/matters', { reference: 'EXP-ALI', title: 'Sale', members: [users.caseHandler.upn] })).body.id as number;
  const bob = (await api.as(users.solicitorB)('POST', '/api/matters', { reference: 'EXP-BOB', title: 'Family' })).body.id as number;
  expect((await admin('POST', `/api/conversations/${x.conversationId}/links`, { matterId: ali })).status).toBe(201);
  expect((await admin('POST', `/api/conversations/${y.conversationId}/links`, { matterId: bob })).status).toBe(201);
  chat.X = (await admin('GET', `/api/conversations/${x.conversationId}`)).body.chatId;
  chat.Y = (await admin('GET', `/api/conversations/${y.conversationId}`)).body.chatId;
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('POST /api/exports', () => {
  it("gives a compliance officer a matter's bundle, which verifies offline and is in the audit trail", async () => {
    const token = await api.token(users.compliance);
    const answer = await download(token, { matter: 'EXP-ALI', timeZone: 'Europe/London' });
    expect(answer.status).toBe(200);
    expect(answer.type).toBe('application/zip');
    expect(answer.disposition).toMatch(/^attachment; filename="evidence-EXP-ALI-\d{4}-\d{2}-\d{2}\.zip"$/);
    expect(answer.sha).toBe(createHash('sha256').update(answer.bytes).digest('hex'));
    const file = path.join(work, 'matter.zip');
    await writeFile(file, answer.bytes);
    const report = await verifyBundle(file);
    expect(report).toMatchObject({ ok: true, problems: [] });

    const trail = await api.call(token, 'GET', '/api/audit?action=export');
    expect(trail.body.items).toEqual([expect.objectContaining({ actor: users.compliance.upn, target: 'matter:EXP-ALI', details: expect.objectContaining({ sha256: answer.sha, conversations: 1 }) })]);
  });

  it('lets a case handler export the conversations of their matters, and no other', async () => {
    const token = await api.token(users.caseHandler);
    expect((await download(token, { conversations: [chat.X] })).status).toBe(200);
    const refused = await api.call(token, 'POST', '/api/exports', { conversations: [chat.Y] });
    expect(refused.status).toBe(403);
  });

  it('refuses solicitors, and a request that names both a matter and conversations', async () => {
    const solicitor = await api.call(await api.token(users.solicitorA), 'POST', '/api/exports', { conversations: [chat.X] });
    expect(solicitor.status).toBe(403);
    expect(solicitor.body.code).toBe('export_forbidden');
    const both = await api.call(await api.token(users.compliance), 'POST', '/api/exports', { matter: 'EXP-ALI', conversations: [chat.X] });
    expect(both.status).toBe(400);
    expect(both.body.errors).toEqual([{ path: 'conversations', message: 'give either conversations, a matter or a subject' }]);
    const unknown = await api.call(await api.token(users.compliance), 'POST', '/api/exports', { matter: 'NO-SUCH' });
    expect(unknown.status).toBe(404);
  });

  it("exports every conversation with one person for a subject access request, the officer's alone, recorded as such", async () => {
    const token = await api.token(users.compliance);
    const answer = await download(token, { subject: { phone: '+44 7700 900701' }, timeZone: 'Europe/London' });
    expect(answer.status).toBe(200);
    expect(answer.disposition).toMatch(/^attachment; filename="subject-access-447700900701-\d{4}-\d{2}-\d{2}\.zip"$/);
    expect(answer.sha).toBe(createHash('sha256').update(answer.bytes).digest('hex'));
    const file = path.join(work, 'subject.zip');
    await writeFile(file, answer.bytes);
    expect(await verifyBundle(file)).toMatchObject({ ok: true, problems: [] });
    const trail = await api.call(token, 'GET', '/api/audit?action=gdpr.access');
    expect(trail.body.items).toEqual([
      expect.objectContaining({ actor: users.compliance.upn, target: 'phone:447700900701', details: expect.objectContaining({ sha256: answer.sha, conversations: 1, chatIds: chat.X }) }),
    ]);

    for (const user of [users.admin, users.caseHandler]) {
      const refused = await api.call(await api.token(user), 'POST', '/api/exports', { subject: { phone: '+447700900701' } });
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('subject_access_forbidden');
    }
    const national = await api.call(token, 'POST', '/api/exports', { subject: { phone: '07700 900701' } });
    expect(national.status).toBe(400);
    expect(national.body.errors).toEqual([{ path: 'subject.phone', message: 'a national number: give it with its country code, such as +44 7700 900123 for 07700 900123' }]);
    const nobody = await api.call(token, 'POST', '/api/exports', { subject: { phone: '+44 7700 900999' } });
    expect(nobody.status).toBe(404);
    expect(nobody.body.detail).toBe('No conversation with +447700900999 is in the archive.');
    const twoWays = await api.call(token, 'POST', '/api/exports', { subject: { phone: '+447700900701', user: 'GB.123' } });
    expect(twoWays.body.errors).toEqual([{ path: 'subject.phone', message: 'give either a phone number or a WhatsApp user id' }]);
    // Nothing refused was recorded as a subject access.
    expect((await api.call(token, 'GET', '/api/audit?action=gdpr.access')).body.items).toHaveLength(1);
  });
});
