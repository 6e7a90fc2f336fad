import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMailCatcher, type MailCatcher } from '../../bridge-server/src/sandbox/catcher.js';
import { jobsSchema } from '../../bridge-server/src/ops/shared-schedules.js';
import { postSignedWebhook, startBridgeWorld, waitFor, type BridgeWorld } from '../support/bridge.js';
import { rawHeader } from '../support/mail-assert.js';
import { startStatementCounter, type StatementCounter } from '../support/statement-counter.js';
import { postgresServerUrl, testDatabaseFor } from '../support/test-database.js';

const CHATS = 10;
const MESSAGES = 190;
/** Webhooks in flight at once, as the relay benchmark sends them. */
const SENDERS = 64;
/**
 * Round trips to PostgreSQL per relayed message, webhook to sent mail, at most. Every statement is
 * a round trip there, and round trips are what the relay on PostgreSQL spends its time on
 * (bench/README.md, relay_postgres). The bound sits a little above what the store sends now.
 */
const MAX_STATEMENTS_PER_MESSAGE = 3.6;

/**
 * Counts what the bridge sends to PostgreSQL, on the wire, while it takes 190 webhooks for 10
 * open chats and relays them to an SMTP server: the statements of the webhooks' group commits,
 * the outbox claims and the relay runs. pg-boss's own statements (its timers) are left out.
 */
describe('statements per relayed message on PostgreSQL', () => {
  let counter: StatementCounter;
  let catcher: MailCatcher;
  let world: BridgeWorld;
  let check: pg.Client;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'wab-pg-count-'));
    const location = await testDatabaseFor(dataDir);
    if (location.kind !== 'postgres') throw new Error('this suite runs on PostgreSQL only');
    const server = new URL(postgresServerUrl);
    counter = await startStatementCounter({ host: server.hostname, port: Number(server.port || 5432) });
    catcher = await startMailCatcher({ keep: 1000 });
    world = await startBridgeWorld({
      smtpUrl: catcher.url,
      mailbox: 'solicitor@firm.test',
      dataDir,
      env: { WA_BRIDGE_DATABASE_URL: counter.url(location.url), WA_BRIDGE_RETENTION_SCHEDULE: 'off' },
    });
    check = new pg.Client({ connectionString: location.url });
    await check.connect();
  });

  afterAll(async () => {
    await check?.end();
    await world?.stop();
    await catcher?.stop();
    await counter?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const count = async (text: string): Promise<number> => Number((await check.query<{ n: string }>(text)).rows[0]!.n);
  const settled = async (relays: number): Promise<boolean> =>
    (await count(`SELECT count(*) AS n FROM mail_relays WHERE state = 'sent'`)) === relays && (await count('SELECT count(*) AS n FROM outbox_jobs')) === 0;

  it('relays every message with few statements each', async () => {
    const { simulator, bridge } = world;
    const phone = (chat: number) => `4477008${String(chat).padStart(5, '0')}`;
    const post = async (chat: number, body: string) => {
      const ok = await postSignedWebhook(bridge.url, simulator.inboundMessage({ from: phone(chat), name: `Client ${chat}`, type: 'text', body }));
      if (!ok) throw new Error(`the webhook for chat ${chat} was refused`);
    };

    // Open every chat first (its cover mail and first message), so what is counted is the steady state.
    await Promise.all(Array.from({ length: CHATS }, (_, chat) => post(chat, `Opening message of chat ${chat}.`)));
    await waitFor(() => settled(2 * CHATS), 60_000, () => `${catcher.mails().length} mails caught while opening the chats`);

    counter.reset();
    let next = 0;
    await Promise.all(
      Array.from({ length: SENDERS }, async () => {
        while (next < MESSAGES) {
          const i = next++;
          await post(i % CHATS, `Message ${i} about the matter.`);
        }
      }),
    );
    await waitFor(() => settled(2 * CHATS + MESSAGES), 120_000, () => `${catcher.mails().length} mails caught`);
    const statements = counter.statements.filter((text) => !text.includes(jobsSchema));

    // Every message went out once, and each chat's chain holds every one of its events.
    const mailIds = new Set(catcher.mails().map((mail) => rawHeader(mail.raw, 'message-id')));
    expect(mailIds.size).toBe(2 * CHATS + MESSAGES);
    expect(await count('SELECT count(*) AS n FROM events')).toBe(CHATS + MESSAGES);
    expect(await count('SELECT count(*) AS n FROM conversations c WHERE c.last_seq <> (SELECT count(*) FROM events e WHERE e.conversation_id = c.id)')).toBe(0);
    expect(await count('SELECT count(*) AS n FROM conversations c WHERE c.chain_head <> (SELECT e.chain_sha256 FROM events e WHERE e.conversation_id = c.id ORDER BY e.seq DESC LIMIT 1)')).toBe(0);

    const perMessage = statements.length / MESSAGES;
    const byShape = new Map<string, number>();
    for (const text of statements) {
      const shape = text.replace(/\$\d+(, )?/g, '').slice(0, 90);
      byShape.set(shape, (byShape.get(shape) ?? 0) + 1);
    }
    const breakdown = [...byShape.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([shape, n]) => `  ${(n / MESSAGES).toFixed(2).padStart(6)}  ${shape}`)
      .join('\n');
    console.info(`statement-count: ${statements.length} statements for ${MESSAGES} relayed messages, ${perMessage.toFixed(2)} per message\n${breakdown}`);
    expect(perMessage).toBeLessThanOrEqual(MAX_STATEMENTS_PER_MESSAGE);
  }, 240_000);
});
