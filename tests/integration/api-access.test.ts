import { beforeAll, describe, expect, it } from 'vitest';
import { useApiWorld, users } from '../support/api-world.js';

const api = useApiWorld();

/**
 * Four conversations: X on Alice's matter (Carol handles it too), Y on Bob's matter, Z unlinked
 * and assigned to Alice, W unlinked and unassigned.
 */
const ids = { X: 0, Y: 0, Z: 0, W: 0 };
const matters = { alice: 0, bob: 0 };

const idsOf = (answer: { body: { items: Array<{ id: number }> } }) => answer.body.items.map((c) => c.id).sort((a, b) => a - b);
const sorted = (...values: number[]) => [...values].sort((a, b) => a - b);

beforeAll(async () => {
  ids.X = (await api.clientWrites('447700900601', 'About the house sale', { name: 'Xavier' })).conversationId;
  ids.Y = (await api.clientWrites('447700900602', 'About my divorce', { name: 'Yolanda' })).conversationId;
  ids.Z = (await api.clientWrites('447700900603', 'New enquiry', { name: 'Zed' })).conversationId;
  ids.W = (await api.clientWrites('447700900604', 'Hello?', { name: 'Wanda' })).conversationId;

  const alice = api.as(users.solicitorA);
  const bob = api.as(users.solicitorB);
  const created = await alice('POST', '/api/matters', { reference: 'ALI-001', title: 'Xavier: sale of 1 High St', matterType: 'Conveyancing', members: [users.caseHandler.upn] });
  expect(created.status).toBe(201);
  matters.alice = created.body.id;
  matters.bob = (await bob('POST', '/api/matters', { reference: 'BOB-001', title: 'Yolanda: divorce' })).body.id;
  // New chats are triaged by an admin: linked to a matter or assigned to someone.
  const admin = api.as(users.admin);
  const untriaged = await alice('POST', `/api/conversations/${ids.X}/links`, { matterId: matters.alice });
  expect(untriaged.status).toBe(403);
  expect(untriaged.body.detail).toBe(`Conversation ${ids.X} is not linked to a matter or assigned to you yet; ask an admin to link or assign it.`);
  expect((await admin('POST', `/api/conversations/${ids.X}/links`, { matterId: matters.alice })).status).toBe(201);
  expect((await admin('POST', `/api/conversations/${ids.Y}/links`, { matterId: matters.bob })).status).toBe(201);
  expect((await admin('PUT', `/api/conversations/${ids.Z}/assignee`, { assignee: 'Alice.Solicitor@firm.test' })).status).toBe(200);
});

describe('who sees which conversations', () => {
  it('shows a solicitor the conversations of their matters and the unlinked ones assigned to them', async () => {
    const answer = await api.as(users.solicitorA)('GET', '/api/conversations');
    expect(answer.status).toBe(200);
    expect(idsOf(answer)).toEqual(sorted(ids.X, ids.Z));
    const x = answer.body.items.find((c: { id: number }) => c.id === ids.X);
    expect(x).toMatchObject({ channel: 'cloud-api', client: { name: 'Xavier', number: '+447700900601' }, matters: [{ reference: 'ALI-001', unlinkedAt: null }], window: { state: 'open' } });
    expect(x.chatId).toMatch(/^[a-z2-7]{26}$/);
  });

  it('shows the other solicitor only theirs', async () => {
    expect(idsOf(await api.as(users.solicitorB)('GET', '/api/conversations'))).toEqual([ids.Y]);
  });

  it('shows a case handler the conversations of their matters, not assignments', async () => {
    expect(idsOf(await api.as(users.caseHandler)('GET', '/api/conversations'))).toEqual([ids.X]);
  });

  it('shows compliance officers and admins everything', async () => {
    const all = sorted(ids.X, ids.Y, ids.Z, ids.W);
    expect(idsOf(await api.as(users.compliance)('GET', '/api/conversations'))).toEqual(all);
    expect(idsOf(await api.as(users.admin)('GET', '/api/conversations'))).toEqual(all);
  });

  it('filters by matter and by unlinked, and pages with a cursor', async () => {
    const admin = api.as(users.admin);
    expect(idsOf(await admin('GET', `/api/conversations?matterId=${matters.alice}`))).toEqual([ids.X]);
    expect(idsOf(await admin('GET', '/api/conversations?unlinked=true'))).toEqual(sorted(ids.Z, ids.W));
    const first = await admin('GET', '/api/conversations?limit=3');
    expect(first.body.items).toHaveLength(3);
    const second = await admin('GET', `/api/conversations?limit=3&cursor=${first.body.nextCursor}`);
    expect(second.body.nextCursor).toBeNull();
    expect(sorted(...idsOf(first), ...idsOf(second))).toEqual(sorted(ids.X, ids.Y, ids.Z, ids.W));
    expect((await admin('GET', '/api/conversations?cursor=bm9wZQ')).body.code).toBe('bad_cursor');
  });

  it("refuses a solicitor another solicitor's matter and conversation (403)", async () => {
    const alice = api.as(users.solicitorA);
    const matter = await alice('GET', `/api/matters/${matters.bob}`);
    expect(matter.status).toBe(403);
    expect(matter.body).toMatchObject({ code: 'matter_forbidden', status: 403 });
    expect((await alice('GET', `/api/conversations/${ids.Y}`)).status).toBe(403);
    expect((await alice('GET', `/api/conversations/${ids.Y}/messages`)).status).toBe(403);
    expect((await alice('GET', `/api/matters`)).body.items.map((m: { reference: string }) => m.reference)).toEqual(['ALI-001']);
    expect((await alice('GET', `/api/matters/999999`)).status).toBe(404);
  });

  it('finds a conversation by the chat id of its mails, for those who may see it', async () => {
    const x = await api.as(users.admin)('GET', `/api/conversations/${ids.X}`);
    const byChat = await api.as(users.caseHandler)('GET', `/api/conversations/by-chat-id/${x.body.chatId.toUpperCase()}`);
    expect(byChat.status).toBe(200);
    expect(byChat.body).toMatchObject({ id: ids.X, can: { reply: true, link: true } });
    expect((await api.as(users.solicitorB)('GET', `/api/conversations/by-chat-id/${x.body.chatId}`)).status).toBe(403);
    expect((await api.as(users.admin)('GET', '/api/conversations/by-chat-id/aaaaaaaaaaaaaaaaaaaaaaaaaa')).status).toBe(404);
  });

  it('lets a compliance officer read but not reply, link or assign', async () => {
    const compliance = api.as(users.compliance);
    const detail = await compliance('GET', `/api/conversations/${ids.Y}`);
    expect(detail.body.can).toEqual({ reply: false, link: false, assign: false });
    const reply = await compliance('POST', `/api/conversations/${ids.Y}/replies`, { text: 'Compliance here' });
    expect(reply.status).toBe(403);
    expect(reply.body.code).toBe('read_only');
    expect((await compliance('POST', `/api/conversations/${ids.W}/links`, { matterId: matters.bob })).status).toBe(403);
    expect((await compliance('PUT', `/api/conversations/${ids.W}/assignee`, { assignee: users.compliance.upn })).status).toBe(403);
    expect((await compliance('POST', '/api/matters', { reference: 'CO-1', title: 'x' })).status).toBe(403);
    const sent = await api.world.bridge.store.db.selectFrom('outbound_commands').select('id').where('conversation_id', '=', ids.Y).execute();
    expect(sent).toEqual([]);
  });

  it('refuses linking to a matter the user is not on', async () => {
    const answer = await api.as(users.solicitorA)('POST', `/api/conversations/${ids.Z}/links`, { matterId: matters.bob });
    expect(answer.status).toBe(403);
    expect(answer.body.code).toBe('matter_forbidden');
  });
});

describe('matter links over time', () => {
  it('keeps ended links as history and moves access with them', async () => {
    const alice = api.as(users.solicitorA);
    const bob = api.as(users.solicitorB);
    // Z moves from Alice's assignment to Alice's matter, then to Bob's matter.
    const first = await alice('POST', `/api/conversations/${ids.Z}/links`, { matterId: matters.alice });
    expect(first.status).toBe(201);
    expect((await alice('POST', `/api/conversations/${ids.Z}/links`, { matterId: matters.alice })).body.code).toBe('already_linked');
    const ended = await alice('DELETE', `/api/conversations/${ids.Z}/links/${first.body.id}`);
    expect(ended.status).toBe(200);
    expect(ended.body).toMatchObject({ id: first.body.id, unlinkedBy: users.solicitorA.upn });
    expect(ended.body.unlinkedAt).not.toBeNull();
    expect((await alice('DELETE', `/api/conversations/${ids.Z}/links/${first.body.id}`)).body.code).toBe('link_ended');

    // Unlinked again and still assigned to Alice: she sees it; Bob links it to his matter.
    expect((await api.as(users.admin)('POST', `/api/conversations/${ids.Z}/links`, { matterId: matters.bob })).status).toBe(201);
    expect((await alice('GET', `/api/conversations/${ids.Z}`)).status).toBe(403);
    const history = await bob('GET', `/api/conversations/${ids.Z}/links`);
    expect(history.body.items.map((l: { reference: string; unlinkedAt: string | null }) => [l.reference, l.unlinkedAt === null])).toEqual([
      ['BOB-001', true],
      ['ALI-001', false],
    ]);
    const detail = await bob('GET', `/api/conversations/${ids.Z}`);
    expect(detail.body.matters.map((m: { reference: string }) => m.reference)).toEqual(['BOB-001']);
    expect(detail.body.links).toHaveLength(2);
  });

  it('closes a matter, after which it takes no new links', async () => {
    const bob = api.as(users.solicitorB);
    const other = await bob('POST', '/api/matters', { reference: 'BOB-002', title: 'Closed soon' });
    expect((await api.as(users.solicitorA)('POST', `/api/matters/${other.body.id}/close`)).status).toBe(403);
    const closed = await bob('POST', `/api/matters/${other.body.id}/close`);
    expect(closed.body).toMatchObject({ state: 'closed', reference: 'BOB-002' });
    const refused = await bob('POST', `/api/conversations/${ids.Y}/links`, { matterId: other.body.id });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('matter_closed');
    expect((await bob('POST', '/api/matters', { reference: 'bob-002', title: 'Same reference' })).body.code).toBe('reference_taken');
  });

  it('adds a member by sign-in name when no directory is configured', async () => {
    const added = await api.as(users.solicitorB)('POST', `/api/matters/${matters.bob}/members`, { email: 'Frank.Trainee@firm.test' });
    expect(added.status).toBe(200);
    expect(added.body.members.map((m: { upn: string }) => m.upn)).toContain('frank.trainee@firm.test');
  });
});

describe('audit trail of API use', () => {
  it('records reads and changes with the user, the target and the address, without message text', async () => {
    const { queryAudit } = await import('../../bridge-server/src/store/audit.js');
    const entries = await queryAudit(api.world.bridge.store.db, {});
    const byAction = (action: string) => entries.filter((e) => e.action === action);
    const link = byAction('matter.link').find((e) => e.actor === users.admin.upn)!;
    expect(link).toMatchObject({ actorName: 'Erin Admin', roles: ['Admin'], source: '127.0.0.1' });
    expect(link.target).toMatch(/^conversation:[a-z2-7]{26}$/);
    expect(byAction('matter.unlink')[0]).toMatchObject({ actor: users.solicitorA.upn, details: { matter: 'ALI-001' } });
    expect(byAction('matter.create').map((e) => e.target)).toEqual(expect.arrayContaining(['matter:ALI-001', 'matter:BOB-001']));
    expect(byAction('conversation.list').some((e) => e.actor === users.compliance.upn)).toBe(true);
    expect(byAction('conversation.read').some((e) => e.actor === users.caseHandler.upn && e.details?.by === 'chat_id')).toBe(true);
    // Refused requests change nothing and are not recorded as done.
    expect(byAction('reply')).toEqual([]);
    expect(JSON.stringify(entries)).not.toContain('About the house sale');
  });

  it('serves the trail to compliance officers, page by page, and records that they read it', async () => {
    const compliance = api.as(users.compliance);
    const first = await compliance('GET', '/api/audit?action=matter.link&limit=2');
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.items[0]).toMatchObject({ action: 'matter.link', actor: users.admin.upn, details: { matter: 'ALI-001' } });
    expect(first.body.items[0].entrySha256).toMatch(/^[0-9a-f]{64}$/);
    const rest = await compliance('GET', `/api/audit?action=matter.link&limit=50&cursor=${first.body.nextCursor}`);
    expect(rest.body.items.every((e: { id: number }) => e.id > first.body.items[1].id)).toBe(true);
    expect(rest.body.nextCursor).toBeNull();
    const refused = await api.as(users.solicitorA)('GET', '/api/audit');
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('compliance_only');
    const reads = await compliance('GET', `/api/audit?action=audit.read&actor=${encodeURIComponent(users.compliance.upn)}`);
    expect(reads.body.items.length).toBeGreaterThanOrEqual(2);
  });
});
