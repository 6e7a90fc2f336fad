import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangeFeed, type FeedChange } from '../../bridge-server/src/api/change-feed.js';
import type { OpenedDatabase } from '../../bridge-server/src/store/db.js';
import { createMatter, endLink, insertLink } from '../../bridge-server/src/store/matters.js';
import { holdPlaces, holdsState, holdsStateOf, placeHold, releaseHold } from '../../bridge-server/src/store/retention.js';
import { openTestDatabase } from '../support/test-database.js';

// The live feed's view of legal holds, on the store alone: which conversations and matters a
// change concerns, and that a change is reported once however many look for it at the same time.

let dir: string;
let opened: OpenedDatabase;
let feed: ChangeFeed;
const seen: FeedChange[][] = [];
let unsubscribe: () => void;
const matters = { held: 0, other: 0 };

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'wab-change-feed-'));
  opened = await openTestDatabase(dir);
  await opened.db
    .insertInto('conversations')
    .values([1, 2, 3, 4].map((id) => ({ id, tenant: 't', channel: 'cloud-api', chat_key: `1:44770090${id}`, chat_token: `tok${id}`, business_id: '1', client_wa_id: `44770090${id}`, client_name: `Client ${id}`, subject: 's', opened_at: 0, created_at: 0 })))
    .execute();
  matters.held = (await createMatter(opened.db, { reference: 'HELD-1', title: 'Held', matterType: null, members: [], createdBy: 'test' }, 0))!;
  matters.other = (await createMatter(opened.db, { reference: 'OTHER-1', title: 'Other', matterType: null, members: [], createdBy: 'test' }, 0))!;
  // Conversation 2 was on the matter once and is no longer: retention still counts it, so the hold keeps it.
  await insertLink(opened.db, 1, matters.held, 'test', 1);
  await endLink(opened.db, await insertLink(opened.db, 2, matters.held, 'test', 1), 'test', 2);
  await insertLink(opened.db, 3, matters.other, 'test', 1);
  // Polls only when a test says so: the pushes below are what is tested.
  feed = new ChangeFeed(opened.db, { pollMs: 3_600_000, now: () => 1_000, onError: (error) => expect.unreachable(String(error)) });
  unsubscribe = await feed.subscribe(async (changes) => void seen.push(changes));
});

afterAll(async () => {
  unsubscribe?.();
  await opened?.close();
  await rm(dir, { recursive: true, force: true });
});

const taken = () => seen.splice(0).flat();

describe('the change feed and legal holds', () => {
  it('names the conversations ever on a held matter, and the matter, once when two look at the same time', async () => {
    const id = await placeHold(opened.db, { matterId: matters.held, reason: 'Dispute', placedBy: 'officer', at: 10 });
    await Promise.all([feed.notifyHolds(), feed.notifyHolds(), feed.notifyHolds()]);
    expect(taken()).toEqual([
      { type: 'retention', conversationIds: [1, 2], matterIds: [matters.held] },
      { type: 'holds', at: 1_000 },
    ]);
    // Nothing changed since: nothing to say.
    await feed.notifyHolds();
    expect(taken()).toEqual([]);

    await releaseHold(opened.db, id, { by: 'officer', reason: 'Settled', at: 20 });
    await feed.notifyHolds();
    expect(taken()).toEqual([
      { type: 'retention', conversationIds: [1, 2], matterIds: [matters.held] },
      { type: 'holds', at: 1_000 },
    ]);
  });

  it('names a held conversation alone, and only the holds that changed since the last look', async () => {
    await placeHold(opened.db, { conversationId: 4, reason: 'Regulator request', placedBy: 'cli:ops', at: 30 });
    await placeHold(opened.db, { matterId: matters.other, reason: 'Complaint', placedBy: 'cli:ops', at: 31 });
    await feed.notifyHolds();
    expect(taken()).toEqual([
      { type: 'retention', conversationIds: [3, 4], matterIds: [matters.other] },
      { type: 'holds', at: 1_000 },
    ]);
  });

  it("reads the holds' state from their rows as the poll's cheap query does, so a look that finds nothing new reads no rows", async () => {
    expect(holdsStateOf(await holdPlaces(opened.db))).toBe(await holdsState(opened.db));
    expect(await holdsState(opened.db)).toMatch(/^[1-9]\d*:[1-9]\d*$/);
  });

  it('tells nothing to a feed nobody follows, and starts a new following from the holds as they are', async () => {
    unsubscribe();
    await placeHold(opened.db, { conversationId: 1, reason: 'While unwatched', placedBy: 'officer', at: 40 });
    await feed.notifyHolds();
    unsubscribe = await feed.subscribe(async (changes) => void seen.push(changes));
    await feed.notifyHolds();
    expect(taken()).toEqual([]);
  });
});
