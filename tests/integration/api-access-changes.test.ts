import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../bridge-server/src/api/context.js';
import { apiRouter } from '../../bridge-server/src/api/router.js';
import { runRetention } from '../../bridge-server/src/archive/retention.js';
import { SqlAuditTrail } from '../../bridge-server/src/store/audit.js';
import { listDeletionCertificates } from '../../bridge-server/src/store/retention.js';
import { waitFor } from '../support/bridge.js';
import { runWaBridge } from '../support/cli.js';
import { useApiWorld, users } from '../support/api-world.js';
import type { TestUser } from '../support/token-issuer.js';

const api = useApiWorld();

/** Changes to who may see a conversation are refused when malformed and recorded when made. */
describe('access changes through the API', () => {
  it('records an assignment and a new matter member in the audit trail, and refuses a bare name', async () => {
    const { conversationId } = await api.clientWrites('447700900801', 'First contact', { name: 'Nina' });
    const admin = api.as(users.admin);
    const bare = await admin('PUT', `/api/conversations/${conversationId}/assignee`, { assignee: 'tom' });
    expect(bare.status).toBe(400);
    expect(bare.body.errors).toEqual([{ path: 'assignee', message: 'expected a sign-in name such as tom@firm.example' }]);

    expect((await admin('PUT', `/api/conversations/${conversationId}/assignee`, { assignee: users.solicitorA.upn })).status).toBe(200);
    const matter = await api.as(users.solicitorA)('POST', '/api/matters', { reference: 'ACC-1', title: 'Nina: lease' });
    expect((await api.as(users.solicitorA)('POST', `/api/matters/${matter.body.id}/members`, { email: users.caseHandler.upn })).status).toBe(200);

    const compliance = api.as(users.compliance);
    const assigned = await compliance('GET', '/api/audit?action=conversation.assign');
    expect(assigned.body.items).toEqual([expect.objectContaining({ actor: users.admin.upn, details: { assignee: users.solicitorA.upn } })]);
    const added = await compliance('GET', '/api/audit?action=matter.member_add');
    expect(added.body.items).toEqual([expect.objectContaining({ actor: users.solicitorA.upn, target: 'matter:ACC-1', details: { member: users.caseHandler.upn } })]);
  });
});

describe('the audit trail over the API', () => {
  it('is for compliance officers only: an admin is refused, JSON and CSV alike', async () => {
    for (const path of ['/api/audit', '/api/audit?format=csv']) {
      const refused = await api.as(users.admin)('GET', path);
      expect(refused.status, path).toBe(403);
      expect(refused.body.code, path).toBe('compliance_only');
    }
  });

  it('exports CSV in the columns of `wa-bridge audit --format csv`, line for line the same, and records the read', async () => {
    const compliance = api.as(users.compliance);
    const answer = await compliance('GET', '/api/audit?format=csv&action=matter.member_add&from=2000-01-01T00:00:00Z');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const lines = (answer.body as string).split('\n');
    expect(lines[0]).toBe('id,at,actor,actorName,roles,action,target,source,details,prevSha256,entrySha256');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain(`,matter.member_add,matter:ACC-1,`);
    const cli = await runWaBridge(api.world.dataDir, ['audit', '--action', 'matter.member_add', '--format', 'csv']);
    expect(cli.code, cli.stderr).toBe(0);
    expect(answer.body).toBe(cli.stdout);

    const reads = await compliance('GET', `/api/audit?action=audit.read&actor=${encodeURIComponent(users.compliance.upn)}`);
    expect(reads.body.items.map((e: { details: { format: string } }) => e.details.format)).toEqual(['json', 'json', 'csv']);
    const paged = await compliance('GET', '/api/audit?format=csv&cursor=5');
    expect(paged.status).toBe(400);
    expect(paged.body.errors).toEqual([{ path: 'cursor', message: 'CSV holds every matching entry; there is no page to continue' }]);
    // An action no entry can have is refused, as the CLI refuses it, not answered with an empty page.
    const bogus = await compliance('GET', '/api/audit?action=bogus');
    expect(bogus.status).toBe(400);
    expect(bogus.body.errors).toEqual([{ path: 'action', message: expect.stringMatching(/^must be one of sign_in, /) }]);
  });
});

/** Every GET route of the API, as "GET /api/...", read from the router itself. */
function apiGetRoutes(): string[] {
  interface Layer {
    rawPath?: unknown;
    route?: { path: unknown; methods: Record<string, boolean> };
    handle?: { stack?: Layer[] };
  }
  const found: string[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        if (layer.route.methods.get) found.push(`GET ${(prefix + String(layer.route.path)).replace(/(.)\/$/, '$1')}`);
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack, prefix + (typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : ''));
      }
    }
  };
  walk((apiRouter({} as ApiDeps, { error: () => undefined }) as unknown as { stack: Layer[] }).stack, '/api');
  return found;
}

/** Each GET route that reads something of the archive: one audit entry per request. */
const readRoutes = [
  'GET /api/me',
  'GET /api/conversations',
  'GET /api/conversations/by-chat-id/:chatId',
  'GET /api/conversations/:id',
  'GET /api/conversations/:id/window',
  'GET /api/conversations/:id/messages',
  'GET /api/conversations/:id/links',
  'GET /api/attachments/:id',
  'GET /api/matters',
  'GET /api/matters/:id',
  'GET /api/search',
  'GET /api/stream',
  'GET /api/admin/status',
  'GET /api/admin/jobs',
  'GET /api/admin/unread-documents',
  'GET /api/audit',
  'GET /api/matters/:id/retention',
  'GET /api/holds',
  'GET /api/retention/due',
  'GET /api/retention/certificates',
  'GET /api/retention/certificates/:id',
];

/** GET routes that read nothing of the archive, and why they leave no entry. */
const notReads: Record<string, string> = {
  'GET /api/sandbox/token': 'the demo sign-in exists only in the sandbox and returns a token, nothing stored; the /api/me that follows records the sign-in',
};

describe('one audit entry per API read', () => {
  it('knows every GET route: each is listed above as a read or as not one', () => {
    const routes = apiGetRoutes();
    expect(routes).toContain('GET /api/conversations/:id/window');
    expect(routes.sort()).toEqual([...readRoutes, ...Object.keys(notReads)].sort());
  });

  const reader: TestUser = { upn: 'olivia.auditor@firm.test', name: 'Olivia Auditor', roles: ['ComplianceOfficer', 'Admin'] };
  const entriesOf = async (upn = reader.upn) => {
    const { queryAudit } = await import('../../bridge-server/src/store/audit.js');
    return queryAudit(api.world.bridge.store.db, { actor: upn });
  };

  it('leaves exactly one entry for each request a reader makes, and none for a refused one', async () => {
    const { simulator, bridge } = api.world;
    const { conversationId } = await api.clientWrites('447700900802', 'A question about fees', { name: 'Omar' });
    const photo = simulator.addMedia(randomBytes(3000), 'image/jpeg');
    expect((await simulator.postWebhook(simulator.inboundMessage({ from: '447700900802', name: 'Omar', type: 'image', media: photo, timestamp: new Date() }))).status).toBe(200);
    let attachmentId = 0;
    await waitFor(
      async () => {
        const row = await bridge.store.db.selectFrom('attachments').select(['id', 'sha256']).where('sha256', 'is not', null).executeTakeFirst();
        attachmentId = row?.id ?? 0;
        return attachmentId > 0;
      },
      10_000,
      () => 'the photo was not downloaded',
    );
    const admin = api.as(users.admin);
    const chatId = (await admin('GET', `/api/conversations/${conversationId}`)).body.chatId as string;
    const matter = await admin('POST', '/api/matters', { reference: 'AUD-READS', title: 'Omar: fees' });
    expect(matter.status).toBe(201);
    // A conversation last heard from seven years ago goes in a retention run (once its mail is
    // sent), leaving a deletion certificate to read.
    const stale = await api.clientWrites('447700900803', 'An old question', { name: 'Ola', timestamp: new Date(Date.now() - 7 * 365.25 * 24 * 3600_000) });
    await waitFor(
      async () => (await bridge.store.db.selectFrom('mail_relays').select('state').where('conversation_id', '=', stale.conversationId).execute()).some((relay) => relay.state === 'sent'),
      10_000,
      () => 'the old message was not relayed',
    );
    const db = bridge.store.db;
    const run = await runRetention({ db, removeBlob: async () => undefined, audit: new SqlAuditTrail(db), actor: { actor: 'retention-test', source: 'test' }, now: Date.now() }, { defaultYears: 6, byMatterType: {} }, false);
    expect(run.outcomes.filter((outcome) => outcome.action === 'deleted')).toHaveLength(1);
    const [certificate] = await listDeletionCertificates(db);
    const paths: Record<string, string> = {
      'GET /api/me': '/api/me',
      'GET /api/conversations': '/api/conversations',
      'GET /api/conversations/by-chat-id/:chatId': `/api/conversations/by-chat-id/${chatId}`,
      'GET /api/conversations/:id': `/api/conversations/${conversationId}`,
      'GET /api/conversations/:id/window': `/api/conversations/${conversationId}/window`,
      'GET /api/conversations/:id/messages': `/api/conversations/${conversationId}/messages`,
      'GET /api/conversations/:id/links': `/api/conversations/${conversationId}/links`,
      'GET /api/attachments/:id': `/api/attachments/${attachmentId}`,
      'GET /api/matters': '/api/matters',
      'GET /api/matters/:id': `/api/matters/${matter.body.id}`,
      'GET /api/search': '/api/search?q=fees',
      'GET /api/stream': `/api/stream?conversation=${conversationId}`,
      'GET /api/admin/status': '/api/admin/status',
      'GET /api/admin/jobs': '/api/admin/jobs',
      'GET /api/admin/unread-documents': '/api/admin/unread-documents',
      'GET /api/audit': '/api/audit?action=sign_in',
      'GET /api/matters/:id/retention': `/api/matters/${matter.body.id}/retention`,
      'GET /api/holds': '/api/holds',
      'GET /api/retention/due': '/api/retention/due',
      'GET /api/retention/certificates': '/api/retention/certificates',
      'GET /api/retention/certificates/:id': `/api/retention/certificates/${certificate!.id}`,
    };
    expect(Object.keys(paths).sort()).toEqual([...readRoutes].sort());

    const as = api.as(reader);
    const token = await api.token(reader);
    for (const route of readRoutes) {
      const path = paths[route]!;
      const before = (await entriesOf()).length;
      if (route === 'GET /api/stream') {
        expect(await openStream(token, path), path).toBe(200);
      } else {
        expect((await as('GET', path)).status, path).toBe(200);
      }
      const after = await entriesOf();
      expect(after.length - before, path).toBe(1);
      if (route === 'GET /api/stream') expect(after.at(-1)).toMatchObject({ action: 'stream.open', target: `conversation:${chatId}`, details: { scope: 'conversation' } });
    }
    const before = (await entriesOf()).length;
    expect(await openStream(token, '/api/stream'), 'unscoped stream').toBe(200);
    expect((await entriesOf()).slice(before)).toEqual([expect.objectContaining({ action: 'stream.open', details: { scope: 'all' } })]);
    expect((await entriesOf()).at(-1)?.target).toBeUndefined();

    // A compliance officer may read but not reply: the refused reply leaves nothing.
    const refusedBefore = (await entriesOf(users.compliance.upn)).length;
    expect((await api.as(users.compliance)('POST', `/api/conversations/${conversationId}/replies`, { text: 'no' })).status).toBe(403);
    expect(await entriesOf(users.compliance.upn)).toHaveLength(refusedBefore);
  });
});

/** Opens the live stream, waits for its first event, and closes it; answers the status. */
async function openStream(token: string, path: string): Promise<number> {
  const abort = new AbortController();
  const response = await fetch(`${api.world.bridge.url}${path}`, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
  try {
    if (response.status !== 200 || !response.body) return response.status;
    const reader = response.body.getReader();
    let text = '';
    while (!text.includes('event: ready')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    return text.includes('event: ready') ? 200 : 0;
  } finally {
    abort.abort();
  }
}
