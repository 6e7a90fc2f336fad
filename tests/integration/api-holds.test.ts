import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { runRetention } from '../../bridge-server/src/archive/retention.js';
import { addYears, decideRetention, parseRetentionPolicy, type RetentionPolicy } from '../../bridge-server/src/core/retention.js';
import { SqlAuditTrail } from '../../bridge-server/src/store/audit.js';
import { listRetentionFacts } from '../../bridge-server/src/store/retention.js';
import { useApiWorld, users } from '../support/api-world.js';

const retentionYears = 'default:6,conveyancing:15';
const api = useApiWorld({ WA_BRIDGE_RETENTION_YEARS: retentionYears });
const policy = (parseRetentionPolicy(retentionYears) as { policy: RetentionPolicy }).policy;

/**
 * Legal holds over the API, as a compliance officer places them from the Teams tab: who may,
 * what a bad request gets, what the matter's members see, and that the retention rules read the
 * holds placed here (a held matter's conversation is kept long after its period; released, it is
 * not).
 */
const ids = { sale: 0, stray: 0, matter: 0 };
let holdOnMatter = 0;
let holdOnConversation = 0;

/** The conversation's retention, as its view shows it to this user. */
async function retentionSeenBy(user: (typeof users)[keyof typeof users], conversationId: number) {
  const answer = await api.as(user)('GET', `/api/conversations/${conversationId}`);
  expect(answer.status).toBe(200);
  return answer.body.retention;
}

/** What retention would decide for a conversation, `years` from now, on the store as it is. */
async function decisionIn(conversationId: number, years: number) {
  const [facts] = await listRetentionFacts(api.world.bridge.store.db, [conversationId]);
  return decideRetention(facts!, policy, addYears(Date.now(), years));
}

beforeAll(async () => {
  ids.sale = (await api.clientWrites('447700900701', 'About the flat purchase', { name: 'Hana' })).conversationId;
  ids.stray = (await api.clientWrites('447700900702', 'Is anyone there?', { name: 'Ivo' })).conversationId;
  const created = await api.as(users.solicitorA)('POST', '/api/matters', { reference: 'HLD-001', title: 'Hana: flat purchase', matterType: 'Conveyancing', members: [users.caseHandler.upn] });
  expect(created.status).toBe(201);
  ids.matter = created.body.id;
  expect((await api.as(users.admin)('POST', `/api/conversations/${ids.sale}/links`, { matterId: ids.matter })).status).toBe(201);
});

describe('legal holds over the API', () => {
  it("tells the matter's people how long its records are kept: by its type, from when it closes", async () => {
    const answer = await api.as(users.caseHandler)('GET', `/api/matters/${ids.matter}/retention`);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ years: 15, rule: 'Conveyancing', keptUntil: null, holds: [] });
    expect((await api.as(users.solicitorB)('GET', `/api/matters/${ids.matter}/retention`)).status).toBe(403);
  });

  it("tells the people in a conversation how long it is kept: while its matter is open, or from its last message", async () => {
    expect(await retentionSeenBy(users.caseHandler, ids.sale)).toEqual({ basis: 'matter_open', keptUntil: null, matter: 'HLD-001', years: null, matterType: null, holds: [] });
    const stray = await api.as(users.compliance)('GET', `/api/conversations/${ids.stray}`);
    expect(stray.body.retention).toEqual({ basis: 'last_activity', keptUntil: new Date(addYears(Date.parse(stray.body.lastActivityAt), 6)).toISOString(), matter: null, years: 6, matterType: null, holds: [] });
  });

  it('refuses holds to everyone but compliance officers, admins included, and stores nothing', async () => {
    for (const user of [users.solicitorA, users.caseHandler, users.admin]) {
      const as = api.as(user);
      const placed = await as('POST', '/api/holds', { matterId: ids.matter, reason: 'Claim threatened' });
      expect(placed.status).toBe(403);
      expect(placed.body).toMatchObject({ code: 'holds_forbidden' });
      expect((await as('GET', '/api/holds')).status).toBe(403);
    }
    expect((await api.as(users.compliance)('GET', '/api/holds?all=true')).body).toEqual({ items: [] });
  });

  it('refuses a hold without a reason, on both or neither of a matter and a conversation, or on what does not exist', async () => {
    const compliance = api.as(users.compliance);
    const unexplained = await compliance('POST', '/api/holds', { matterId: ids.matter, reason: '   ' });
    expect(unexplained.status).toBe(400);
    expect(unexplained.body.errors).toEqual([{ path: 'reason', message: 'say why, e.g. the proceedings or the regulator request' }]);
    for (const scope of [{}, { matterId: ids.matter, conversationId: ids.sale }]) {
      const answer = await compliance('POST', '/api/holds', { ...scope, reason: 'Claim threatened' });
      expect(answer.status).toBe(400);
      expect(answer.body.errors).toEqual([{ path: 'matterId', message: 'give exactly one of matterId and conversationId' }]);
    }
    expect((await compliance('POST', '/api/holds', { matterId: 99999, reason: 'Claim threatened' })).status).toBe(404);
    expect((await compliance('POST', '/api/holds', { conversationId: 99999, reason: 'Claim threatened' })).status).toBe(404);
    expect((await compliance('GET', '/api/holds?all=true')).body).toEqual({ items: [] });
  });

  it("places a hold on a matter, shows it to the matter's people, and keeps the matter's conversation past its period", async () => {
    const placed = await api.as(users.compliance)('POST', '/api/holds', { matterId: ids.matter, reason: 'Claim threatened by the seller' });
    expect(placed.status).toBe(201);
    expect(placed.body).toMatchObject({
      matter: { id: ids.matter, reference: 'HLD-001' },
      conversation: null,
      reason: 'Claim threatened by the seller',
      placedBy: users.compliance.upn,
      releasedAt: null,
      releasedBy: null,
      releaseReason: null,
    });
    holdOnMatter = placed.body.id;
    const closed = await api.as(users.solicitorA)('POST', `/api/matters/${ids.matter}/close`);
    expect(closed.status).toBe(200);

    const retention = await api.as(users.solicitorA)('GET', `/api/matters/${ids.matter}/retention`);
    expect(retention.body).toEqual({ years: 15, rule: 'Conveyancing', keptUntil: new Date(addYears(Date.parse(closed.body.closedAt), 15)).toISOString(), holds: [placed.body] });
    // Twenty years on, the period (15 years after closing) has run out; the hold still keeps it.
    expect(await decisionIn(ids.sale, 20)).toEqual({ expired: false, reason: `legal hold ${holdOnMatter} on matter HLD-001: Claim threatened by the seller`, retainUntil: null, basis: { kind: 'hold' } });
    // The matter's conversation says so to whoever reads it, with the hold on the matter.
    expect(await retentionSeenBy(users.caseHandler, ids.sale)).toEqual({ basis: 'hold', keptUntil: null, matter: null, years: null, matterType: null, holds: [placed.body] });
  });

  it('places a hold on one conversation, and lists the holds in force', async () => {
    const placed = await api.as(users.compliance)('POST', '/api/holds', { conversationId: ids.stray, reason: 'Police request' });
    expect(placed.status).toBe(201);
    const { chatId } = (await api.as(users.compliance)('GET', `/api/conversations/${ids.stray}`)).body;
    expect(placed.body).toMatchObject({ matter: null, conversation: { id: ids.stray, chatId, client: { name: 'Ivo', number: '+447700900702' } }, reason: 'Police request' });
    holdOnConversation = placed.body.id;
    const list = await api.as(users.compliance)('GET', '/api/holds');
    expect(list.body.items.map((hold: { id: number }) => hold.id)).toEqual([holdOnMatter, holdOnConversation]);
    expect(await decisionIn(ids.stray, 10)).toMatchObject({ expired: false, reason: `legal hold ${holdOnConversation} on conversation ${chatId}: Police request` });
    // Each conversation lists the holds that keep it, and no other.
    expect((await retentionSeenBy(users.compliance, ids.stray)).holds).toEqual([placed.body]);
    expect((await retentionSeenBy(users.compliance, ids.sale)).holds.map((hold: { id: number }) => hold.id)).toEqual([holdOnMatter]);
  });

  it('releases a hold once, with a reason; released, the records go when their period ends', async () => {
    const compliance = api.as(users.compliance);
    const unexplained = await compliance('POST', `/api/holds/${holdOnMatter}/release`, {});
    expect(unexplained.status).toBe(400);
    expect(unexplained.body.errors.map((issue: { path: string }) => issue.path)).toEqual(['reason']);
    expect((await compliance('POST', '/api/holds/99999/release', { reason: 'Done' })).status).toBe(404);

    const released = await compliance('POST', `/api/holds/${holdOnMatter}/release`, { reason: 'Seller withdrew the claim' });
    expect(released.status).toBe(200);
    expect(released.body).toMatchObject({ id: holdOnMatter, releasedBy: users.compliance.upn, releaseReason: 'Seller withdrew the claim' });
    expect(Date.parse(released.body.releasedAt)).toBeGreaterThanOrEqual(Date.parse(released.body.placedAt));
    const again = await compliance('POST', `/api/holds/${holdOnMatter}/release`, { reason: 'Twice' });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'hold_released', detail: `Hold ${holdOnMatter} was released already, by ${users.compliance.upn}.` });

    expect((await compliance('GET', '/api/holds')).body.items.map((hold: { id: number }) => hold.id)).toEqual([holdOnConversation]);
    const all = (await compliance('GET', '/api/holds?all=true')).body.items;
    expect(all.map((hold: { id: number }) => hold.id)).toEqual([holdOnMatter, holdOnConversation]);
    expect(all[0]).toEqual(released.body);
    expect((await api.as(users.solicitorA)('GET', `/api/matters/${ids.matter}/retention`)).body.holds).toEqual([]);
    expect(await decisionIn(ids.sale, 20)).toMatchObject({ expired: true, rule: 'Conveyancing: 15 years after matter HLD-001 closed' });
    // Released, the conversation runs out with its closed matter's period.
    const closedAt = (await api.as(users.solicitorA)('GET', `/api/matters/${ids.matter}`)).body.closedAt;
    expect(await retentionSeenBy(users.solicitorA, ids.sale)).toEqual({ basis: 'matter_closed', keptUntil: new Date(addYears(Date.parse(closedAt), 15)).toISOString(), matter: 'HLD-001', years: 15, matterType: 'Conveyancing', holds: [] });
  });

  it('records every placing, release and listing in the audit trail: who, on what, why', async () => {
    const compliance = api.as(users.compliance);
    const placed = (await compliance('GET', '/api/audit?action=hold.place')).body.items;
    const { chatId } = (await compliance('GET', `/api/conversations/${ids.stray}`)).body;
    expect(placed).toEqual([
      expect.objectContaining({ actor: users.compliance.upn, target: 'matter:HLD-001', details: { hold: holdOnMatter, reason: 'Claim threatened by the seller' } }),
      expect.objectContaining({ actor: users.compliance.upn, target: `conversation:${chatId}`, details: { hold: holdOnConversation, reason: 'Police request' } }),
    ]);
    // The refused second release left no entry.
    expect((await compliance('GET', '/api/audit?action=hold.release')).body.items).toEqual([
      expect.objectContaining({ actor: users.compliance.upn, target: `hold:${holdOnMatter}`, details: { reason: 'Seller withdrew the claim' } }),
    ]);
    // Five listings by the compliance officer; the refused ones of the others left none.
    expect((await compliance('GET', '/api/audit?action=hold.list')).body.items.map((entry: { actor: string }) => entry.actor)).toEqual(Array(5).fill(users.compliance.upn));
    expect((await compliance('GET', '/api/audit?action=retention.read')).body.items[0]).toMatchObject({ actor: users.caseHandler.upn, target: 'matter:HLD-001', details: { holds: 0 } });
  });
});

describe('retention over the API: what is due, and what was deleted', () => {
  const yearMs = 365.25 * 24 * 3600_000;
  const dayMs = 24 * 3600_000;
  const due = { old: 0, soon: 0 };

  beforeAll(async () => {
    // Never linked to a matter: kept the default 6 years after the last message.
    due.old = (await api.clientWrites('447700900703', 'Old enquiry', { name: 'Olu', timestamp: new Date(Date.now() - 7 * yearMs) })).conversationId;
    due.soon = (await api.clientWrites('447700900704', 'Old question', { name: 'Sami', timestamp: new Date(addYears(Date.now() + 30 * dayMs, -6)) })).conversationId;
  });

  it('is for compliance officers only', async () => {
    for (const path of ['/api/retention/due', '/api/retention/certificates', '/api/retention/certificates/1']) {
      const answer = await api.as(users.admin)('GET', path);
      expect(answer.status).toBe(403);
      expect(answer.body.code).toBe('retention_forbidden');
    }
  });

  it('lists what retention deletes within the days asked, oldest first; held and unexpired conversations are not in it', async () => {
    const compliance = api.as(users.compliance);
    const within90 = await compliance('GET', '/api/retention/due?days=90');
    expect(within90.status).toBe(200);
    expect(within90.body.items.map((item: { conversation: { id: number } }) => item.conversation.id)).toEqual([due.old, due.soon]);
    expect(within90.body.items[1]).toMatchObject({
      conversation: { id: due.soon, client: { name: 'Sami', number: '+447700900704' } },
      matters: [],
      rule: 'default: 6 years after the last activity (never linked to a matter)',
    });
    const deleteFrom = Date.parse(within90.body.items[1].deleteFrom);
    expect(deleteFrom - Date.now()).toBeGreaterThan(29 * dayMs);
    expect(deleteFrom - Date.now()).toBeLessThan(31 * dayMs);
    expect((await compliance('GET', '/api/retention/due?days=0')).body.items.map((item: { conversation: { id: number } }) => item.conversation.id)).toEqual([due.old]);
    const bad = await compliance('GET', '/api/retention/due?days=soon');
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((issue: { path: string }) => issue.path)).toEqual(['days']);
  });

  it('lists the deletion certificates of a retention run, and serves each as stored', async () => {
    const db = api.world.bridge.store.db;
    const { chatId } = (await api.as(users.compliance)('GET', `/api/conversations/${due.old}`)).body;
    const run = await runRetention({ db, removeBlob: async () => undefined, audit: new SqlAuditTrail(db), actor: { actor: 'retention-test', source: 'test' }, now: Date.now() }, policy, false);
    const deleted = run.outcomes.filter((outcome) => outcome.action === 'deleted');
    expect(deleted.map((outcome) => outcome.chatId)).toEqual([chatId]);

    const compliance = api.as(users.compliance);
    const list = await compliance('GET', '/api/retention/certificates');
    expect(list.body.items).toEqual([
      {
        id: expect.any(Number),
        chatId,
        reason: 'retention',
        rule: 'default: 6 years after the last activity (never linked to a matter)',
        deletedAt: expect.any(String),
        deletedBy: 'retention-test',
        events: 1,
        sha256: deleted[0]!.certificateSha256,
      },
    ]);
    const certificate = list.body.items[0];
    const download = await fetch(`${api.world.bridge.url}/api/retention/certificates/${certificate.id}`, { headers: { authorization: `Bearer ${await api.token(users.compliance)}` } });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toBe(`attachment; filename="deletion-certificate-${certificate.id}.json"`);
    const bytes = Buffer.from(await download.arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(certificate.sha256);
    expect(JSON.parse(bytes.toString())).toMatchObject({ reason: 'retention', conversation: { chatId, events: 1 } });
    expect((await compliance('GET', '/api/retention/certificates/99999')).status).toBe(404);
    expect((await compliance('GET', '/api/retention/due?days=0')).body.items).toEqual([]);
    expect((await compliance('GET', `/api/audit?action=retention.read&target=conversation:${chatId}`)).body.items).toEqual([expect.objectContaining({ actor: users.compliance.upn, details: { certificate: certificate.id } })]);
  });
});
