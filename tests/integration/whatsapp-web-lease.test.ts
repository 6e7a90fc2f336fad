import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adoptMarksFile } from '../../bridge-server/src/channels/whatsapp-web/catch-up-marks.js';
import { WhatsAppWebChannel } from '../../bridge-server/src/channels/whatsapp-web/channel.js';
import { WhatsAppWebSession, type SessionState } from '../../bridge-server/src/channels/whatsapp-web/session.js';
import { SessionLease } from '../../bridge-server/src/channels/whatsapp-web/session-lease.js';
import { FakeWebClient } from '../../bridge-server/src/channels/whatsapp-web/test-client.js';
import { RunsElsewhereError } from '../../bridge-server/src/core/errors.js';
import { createLogger } from '../../bridge-server/src/ops/logger.js';
import type { OpenedDatabase } from '../../bridge-server/src/store/db.js';
import { StoreLeases, StoreMarks } from '../../bridge-server/src/store/leases.js';
import { waitFor } from '../support/bridge.js';
import { openTestDatabase } from '../support/test-database.js';

const logger = createLogger(process.env.WA_BRIDGE_TEST_LOG ?? 'silent');

/**
 * The whatsapp-web.js session among bridge instances sharing one store: the lease that lets one
 * instance at a time run it, and the catch-up marks every instance reads. Each "instance" here
 * has its own connection to the store, as separate processes would.
 */
describe('one WhatsApp Web session among bridge instances', () => {
  let dataDir: string;
  let opened: OpenedDatabase;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'wab-lease-'));
    opened = await openTestDatabase(dataDir);
  });
  afterAll(async () => {
    await opened?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('gives the lease to one owner at a time, renews it for that owner and hands it on once it ran out or was given up', async () => {
    const leases = new StoreLeases(opened.db);
    const name = 'lease-rules';
    expect(await leases.claim(name, 'A', 1000, 10_000)).toEqual({ held: true, owner: 'A', generation: 1, expiresAt: 11_000 });
    expect(await leases.claim(name, 'B', 1000, 10_500)).toMatchObject({ held: false, owner: 'A', expiresAt: 11_000 });
    expect(await leases.claim(name, 'A', 1000, 10_800)).toEqual({ held: true, owner: 'A', generation: 1, expiresAt: 11_800 });
    expect(await leases.claim(name, 'B', 1000, 11_799)).toMatchObject({ held: false, owner: 'A' });
    expect(await leases.claim(name, 'B', 1000, 11_800)).toEqual({ held: true, owner: 'B', generation: 2, expiresAt: 12_800 });
    expect(await leases.claim(name, 'A', 1000, 11_900)).toMatchObject({ held: false, owner: 'B', generation: 2 });
    // Giving up a lease one does not hold changes nothing; the holder's giving up frees it at once.
    await leases.release(name, 'A');
    expect(await leases.claim(name, 'A', 1000, 12_000)).toMatchObject({ held: false, owner: 'B' });
    await leases.release(name, 'B');
    expect(await leases.claim(name, 'A', 1000, 12_001)).toEqual({ held: true, owner: 'A', generation: 3, expiresAt: 13_001 });
  });

  it('lets exactly one of many simultaneous claimers win', async () => {
    const connections = await Promise.all(Array.from({ length: 4 }, () => openTestDatabase(dataDir)));
    try {
      const now = Date.now();
      const results = await Promise.all(
        Array.from({ length: 24 }, (_, i) => new StoreLeases(connections[i % connections.length]!.db).claim('race', `owner-${i}`, 60_000, now)),
      );
      const winners = results.filter((r) => r.held);
      expect(winners).toHaveLength(1);
      expect(new Set(results.map((r) => r.owner))).toEqual(new Set([winners[0]!.owner]));
    } finally {
      await Promise.all(connections.map((c) => c.close()));
    }
  });

  it('keeps catch-up marks moving forward only, the time a number was linked once, and adopts a data dir marks file once', async () => {
    const marks = new StoreMarks(opened.db);
    expect(await marks.linkedAt('441', 5000)).toBe(5000);
    expect(await marks.linkedAt('441', 9000)).toBe(5000);
    expect(await marks.get('441', 'chat@c.us')).toBeUndefined();
    await marks.advance('441', 'chat@c.us', 7000);
    await marks.advance('441', 'chat@c.us', 6000);
    expect(await marks.get('441', 'chat@c.us')).toBe(7000);

    const oldDir = await mkdtemp(path.join(tmpdir(), 'wab-marks-'));
    try {
      const file = path.join(oldDir, 'whatsapp-web', 'catch-up.json');
      await mkdir(path.dirname(file), { recursive: true });
      const content = { version: 1, numbers: { '441': { linkedAt: 1000, chats: { 'chat@c.us': 6500, 'other@c.us': 8000 } } } };
      await writeFile(file, JSON.stringify(content));
      expect(await adoptMarksFile(oldDir, marks)).toBe(2);
      expect(await marks.get('441', 'chat@c.us')).toBe(7000);
      expect(await marks.get('441', 'other@c.us')).toBe(8000);
      expect(await marks.linkedAt('441', 0)).toBe(5000);
      // Renamed, not deleted: a second start finds nothing to adopt, and the operator keeps the file.
      expect(JSON.parse(await readFile(`${file}.imported`, 'utf8'))).toEqual(content);
      expect(await adoptMarksFile(oldDir, marks)).toBe(0);
    } finally {
      await rm(oldDir, { recursive: true, force: true });
    }
  });

  describe('two instances', () => {
    const ttlMs = 800;
    const businessId = '442071234567';
    interface Instance {
      connection: OpenedDatabase;
      session: WhatsAppWebSession;
      lease: SessionLease;
      clients: FakeWebClient[];
      states: SessionState[];
      leaseName: string;
    }
    const instances: Instance[] = [];
    /** Moments when two instances' sessions of one lease were connected at once (must stay empty). */
    const overlaps: number[] = [];

    const startInstance = async (tag: string, lease = { name: 'session-handover', ttlMs }): Promise<Instance> => {
      const connection = await openTestDatabase(dataDir);
      const clients: FakeWebClient[] = [];
      const session = new WhatsAppWebSession({
        createClient: () => {
          const client = new FakeWebClient();
          client.sentIdPrefix = `3EB0${tag}`;
          // The saved session is restored: ready without a QR code.
          client.onInitialize = async () => void setImmediate(() => client.becomeReady(businessId));
          clients.push(client);
          return client;
        },
        onBatch: async () => undefined,
        marks: new StoreMarks(connection.db),
        logger,
        reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
        stopTimeoutMs: 1000,
      });
      const states: SessionState[] = [];
      session.onStatus((status) => {
        states.push(status.state);
        const rivals = instances.filter((other) => other.leaseName === lease.name && other.session !== session);
        if (status.state === 'ready' && rivals.some((other) => other.session.status().state === 'ready')) overlaps.push(Date.now());
      });
      const keeper = new SessionLease({ leases: new StoreLeases(connection.db), session, owner: `instance ${tag}`, name: lease.name, ttlMs: lease.ttlMs, logger });
      const instance = { connection, session, lease: keeper, clients, states, leaseName: lease.name };
      instances.push(instance);
      keeper.start();
      return instance;
    };

    afterAll(async () => {
      for (const instance of instances) {
        await instance.lease.stop().catch(() => undefined);
        await instance.connection.close().catch(() => undefined);
      }
    });

    it('runs the session on the first instance and keeps the second on standby, which hands sends to the owner', async () => {
      const a = await startInstance('A');
      await waitFor(() => a.session.status().state === 'ready', 5000, () => JSON.stringify(a.session.status()));
      const b = await startInstance('B');
      await waitFor(() => b.session.status().state === 'standby', 5000, () => JSON.stringify(b.session.status()));
      expect(b.session.status().standby).toContain('instance A');
      expect(b.clients).toHaveLength(0);
      // A standby instance never opens a browser, and its sends say the work belongs elsewhere.
      await new Promise((resolve) => setTimeout(resolve, ttlMs * 2));
      expect(b.clients).toHaveLength(0);
      expect(a.session.status().state).toBe('ready');
      const send = new WhatsAppWebChannel({ session: b.session }).send({ to: '447700900123', businessId, text: 'hello', files: [] });
      await expect(send).rejects.toBeInstanceOf(RunsElsewhereError);
      const sent = await new WhatsAppWebChannel({ session: a.session }).send({ to: '447700900123', businessId, text: 'hello', files: [] });
      expect(sent.waMessageId).toContain('3EB0A');
    });

    it('moves the session when the owner loses the database: the owner stops first, the other takes over once the lease ran out', async () => {
      const [a, b] = instances as [Instance, Instance];
      // The owner's own connection to the store goes away, as when its network to the database fails.
      await a.connection.close();
      await waitFor(() => a.session.status().state === 'standby', 5000, () => JSON.stringify(a.session.status()));
      await waitFor(() => b.session.status().state === 'ready', 10_000, () => JSON.stringify(b.session.status()));
      expect(a.session.status().standby).toMatch(/could not renew/);
      expect(a.clients.at(-1)!.destroyCalls).toBe(1);
      expect(b.clients).toHaveLength(1);
      expect(overlaps).toEqual([]);
    });

    it('hands the session over at once when its owner stops cleanly, long before its lease would run out', async () => {
      // A long lease here: the handover must come from the owner giving it up, not from expiry.
      const long = { name: 'clean-handover', ttlMs: 12_000 };
      const d = await startInstance('D', long);
      await waitFor(() => d.session.status().state === 'ready', 5000, () => JSON.stringify(d.session.status()));
      const e = await startInstance('E', long);
      await waitFor(() => e.session.status().state === 'standby', 5000, () => JSON.stringify(e.session.status()));
      const { expires_at: expiresAt } = await opened.db.selectFrom('leases').select('expires_at').where('name', '=', long.name).executeTakeFirstOrThrow();
      await d.lease.stop();
      expect(d.session.status().state).toBe('stopped');
      await waitFor(() => e.session.status().state === 'ready', 10_000, () => JSON.stringify(e.session.status()));
      expect(Date.now()).toBeLessThan(Number(expiresAt));
      const row = await opened.db.selectFrom('leases').selectAll().where('name', '=', long.name).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ owner: 'instance E' });
      expect(Number(row.generation)).toBe(2);
      expect(overlaps).toEqual([]);
    });
  });
});
