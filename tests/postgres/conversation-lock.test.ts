import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeCloudWebhook } from '../../bridge-server/src/channels/cloud-api/normalize.js';
import { parseCloudWebhook } from '../../bridge-server/src/channels/cloud-api/payload.js';
import { inboundMessage } from '../../bridge-server/src/channels/simulator/builders.js';
import { ingestBatch } from '../../bridge-server/src/flows/ingest.js';
import type { ClientLookup } from '../../bridge-server/src/core/ports.js';
import { findConversation, getConversation } from '../../bridge-server/src/store/conversations.js';
import type { OpenedDatabase } from '../../bridge-server/src/store/db.js';
import { SqlRelayRuns } from '../../bridge-server/src/store/relays.js';
import { SqlStore } from '../../bridge-server/src/store/sql-store.js';
import { openTestDatabase } from '../support/test-database.js';


/** Settles within `ms`, or says it is still waiting. */
const within = <T>(promise: Promise<T>, ms: number): Promise<T | 'waiting'> => Promise.race([promise, new Promise<'waiting'>((resolve) => setTimeout(() => resolve('waiting'), ms))]);

/**
 * The lock an appender takes on its conversation (PostgreSQL): a second appender to the same chat
 * waits for the first to commit, while a relayed mail's record for that chat, which only references
 * the conversation, is written meanwhile.
 */
describe('the conversation lock on PostgreSQL', () => {
  let dir: string;
  let opened: OpenedDatabase;
  let conversationId: number;
  let eventId: number;
  let lookup: ClientLookup;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wab-conv-lock-'));
    opened = await openTestDatabase(dir);
    const store = new SqlStore(opened.db, 'default', () => Date.now());
    const envelope = inboundMessage({ from: '447700900777', name: 'Lock Client', type: 'text', body: 'hello', id: 'wamid.lock-1', timestamp: 1_790_000_000 });
    const result = await ingestBatch({ store, clock: { now: () => Date.now() }, tenant: 'default' }, normalizeCloudWebhook(parseCloudWebhook(JSON.parse(JSON.stringify(envelope)))));
    eventId = result.stored[0]!.id;
    conversationId = result.stored[0]!.conversationId;
    const conversation = (await getConversation(opened.db, conversationId))!;
    lookup = { tenant: 'default', channel: conversation.channel, businessId: conversation.businessId, waId: '447700900777' };
    expect((await findConversation(opened.db, lookup))?.id).toBe(conversationId);
  });
  afterAll(async () => {
    await opened?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('holds a second appender back until the first commits, and lets a relay record through meanwhile', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const hasLock = new Promise<void>((resolve) => (locked = resolve));
    // The first appender: finds (and locks) the conversation, then keeps its transaction open.
    const first = opened.db.transaction().execute(async (trx) => {
      expect((await findConversation(trx, lookup))?.id).toBe(conversationId);
      locked();
      await held;
    });
    await hasLock;

    // A relay run of the same chat records its composed mail: not held back by the appender.
    const prepare = new SqlRelayRuns(opened.db).prepare([
      { conversationId, eventId, mailMessageId: `<lock-test.${eventId}@wa.firm.test>`, rawSha256: 'a'.repeat(64), rawSize: 10, preparedAt: Date.now() },
    ]);
    expect(await within(prepare, 3000)).toBeUndefined();

    // A second appender to the same chat waits for the first.
    const second = opened.db.transaction().execute((trx) => findConversation(trx, lookup));
    expect(await within(second, 500)).toBe('waiting');
    release();
    await first;
    expect((await second)?.id).toBe(conversationId);
  });
});
