import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMailCatcher, type MailCatcher } from '../../bridge-server/src/sandbox/catcher.js';
import { closeMatter, createMatter, insertLink } from '../../bridge-server/src/store/matters.js';
import { startBridgeWorld, waitFor, waitForIdleOutbox } from '../support/bridge.js';
import { runWaBridge } from '../support/cli.js';
import { onPostgres, openRawStore, openTestDatabase } from '../support/test-database.js';

const env = { WA_BRIDGE_RETENTION_YEARS: 'default:6,conveyancing:2,litigation:15', WA_BRIDGE_RETENTION_SCHEDULE: 'off' };

const waBridge = (dataDir: string, ...args: string[]) => runWaBridge(dataDir, args, env);

interface AuditLine {
  action: string;
  actor: string;
  target?: string;
  source: string;
  details: Record<string, string | number | boolean | null>;
}

/** The audit trail's entries for one action, oldest first, as `wa-bridge audit` prints them. */
async function auditOf(dataDir: string, action: string): Promise<AuditLine[]> {
  const result = await waBridge(dataDir, 'audit', '--action', action, '--format', 'json');
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as AuditLine);
}

/**
 * Retention, legal hold and erasure on a store a real bridge wrote: five clients, one per case
 * (expired, expired but its matter held, expired but the conversation itself held, open matter,
 * never linked), through the real commands.
 */
describe('retention and legal hold', () => {
  let catcher: MailCatcher;
  let dataDir: string;
  const chat: Record<'expired' | 'held' | 'chatHeld' | 'open' | 'unlinked', string> = { expired: '', held: '', chatHeld: '', open: '', unlinked: '' };
  const phones = { expired: '447700900501', held: '447700900502', chatHeld: '447700900505', open: '447700900503', unlinked: '447700900504' };
  let chatHoldId = '';
  const photo = Buffer.from('a photo only the expired chat has');
  const photoSha = createHash('sha256').update(photo).digest('hex');
  const db = () => openRawStore(dataDir);
  const count = async (table: string, where = '1 = 1') => {
    const handle = await db();
    try {
      return (await handle.get<{ n: number }>(`SELECT count(*) AS n FROM ${table} WHERE ${where}`))!.n;
    } finally {
      await handle.close();
    }
  };

  /**
   * The files the store keeps its rows in: SQLite's database and write-ahead log, or every table,
   * index and TOAST file of the PostgreSQL database, written out by a checkpoint first.
   */
  const storeFiles = async (): Promise<string[]> => {
    if (!onPostgres) return ['wa-bridge.sqlite', 'wa-bridge.sqlite-wal'].map((name) => path.join(dataDir, name)).filter((file) => existsSync(file));
    const handle = await db();
    try {
      await handle.run('CHECKPOINT');
      const directory = (await handle.get<{ data_directory: string }>('SHOW data_directory'))!.data_directory;
      const files = await handle.all<{ file: string }>(
        "SELECT pg_relation_filepath(c.oid) AS file FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND c.relkind IN ('r', 'i', 't') AND pg_relation_filepath(c.oid) IS NOT NULL",
      );
      return files.map((row) => path.join(directory, row.file)).filter((file) => existsSync(file));
    } finally {
      await handle.close();
    }
  };

  beforeAll(async () => {
    catcher = await startMailCatcher({});
    dataDir = await mkdtemp(path.join(tmpdir(), 'wab-retention-'));
    const world = await startBridgeWorld({ smtpUrl: catcher.url, mailbox: 'solicitor@firm.test', dataDir, env });
    try {
      const sim = world.simulator;
      for (const [name, phone] of Object.entries(phones)) {
        expect((await sim.postWebhook(sim.inboundMessage({ from: phone, name: `Client ${name}`, type: 'text', body: `hello from ${name}` }))).status).toBe(200);
      }
      expect((await sim.postWebhook(sim.inboundMessage({ from: phones.expired, name: 'Client expired', type: 'image', media: sim.addMedia(photo, 'image/png') }))).status).toBe(200);
      // A client known only by WhatsApp user id (the number withheld).
      expect((await sim.postWebhook(sim.inboundMessage({ from: '', userId: 'GB.1502576394655843', name: 'Ursula', type: 'text', body: 'number withheld' }))).status).toBe(200);
      await waitFor(() => catcher.mails().length >= 10, 20_000, () => `${catcher.mails().length} mails`);
      // Every job done (the photo downloaded and relayed too) before the bridge stops, so nothing
      // it was still doing lands after the commands below.
      await waitForIdleOutbox(world.bridge);
    } finally {
      await world.stop();
    }
    const opened = await openTestDatabase(dataDir);
    try {
      const rows = await opened.db.selectFrom('conversations').select(['id', 'client_wa_id', 'chat_token']).execute();
      const idOf = (phone: string) => rows.find((row) => row.client_wa_id === phone)!;
      for (const key of Object.keys(phones) as Array<keyof typeof phones>) chat[key] = idOf(phones[key]).chat_token;
      const threeYearsAgo = Date.now() - 3 * 365 * 24 * 3_600_000;
      const matter = async (reference: string, type: string, phone: string, closedAt: number | null) => {
        const id = (await createMatter(opened.db, { reference, title: reference, matterType: type, members: [], createdBy: 'test' }, threeYearsAgo - 1000))!;
        await insertLink(opened.db, idOf(phone).id, id, 'test', threeYearsAgo - 500);
        if (closedAt !== null) await closeMatter(opened.db, id, 'test', closedAt);
      };
      await matter('CONV-1', 'conveyancing', phones.expired, threeYearsAgo);
      await matter('CONV-2', 'conveyancing', phones.held, threeYearsAgo);
      await matter('CONV-4', 'conveyancing', phones.chatHeld, threeYearsAgo);
      await matter('LIT-3', 'litigation', phones.open, null);
    } finally {
      await opened.close();
    }
    expect((await waBridge(dataDir, 'hold', 'place', '--matter', 'CONV-2', '--reason', 'Claim threatened by the buyer')).stdout).toMatch(/^hold \d+ placed on matter CONV-2/);
    // A hold on the one conversation, not on its matter (whose period has run out too).
    const placed = await waBridge(dataDir, 'hold', 'place', '--conversation', chat.chatHeld, '--reason', 'Police request about one client');
    expect(placed.code, placed.stderr).toBe(0);
    chatHoldId = new RegExp(`^hold (\\d+) placed on conversation ${chat.chatHeld}$`, 'm').exec(placed.stdout)![1]!;
    expect((await waBridge(dataDir, 'checkpoint')).code).toBe(0);
  });

  afterAll(async () => {
    await catcher?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('lists what would go in a dry run, and deletes nothing', async () => {
    const events = await count('events');
    const result = await waBridge(dataDir, 'retention', 'run', '--dry-run', '--verbose');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`would delete ${chat.expired}: conveyancing: 2 years after matter CONV-1 closed`);
    expect(result.stdout).toMatch(new RegExp(`kept ${chat.held}: legal hold \\d+ on matter CONV-2: Claim threatened by the buyer`));
    expect(result.stdout).toContain(`kept ${chat.open}: matter LIT-3 is open`);
    expect(result.stdout).toMatch(new RegExp(`kept ${chat.unlinked}: default period of 6 years after the last activity runs to`));
    expect(await count('events')).toBe(events);
  });

  it('keeps a conversation under its own hold that would otherwise go, and says why even without --verbose', async () => {
    const held = `kept ${chat.chatHeld}: legal hold ${chatHoldId} on conversation ${chat.chatHeld}: Police request about one client (without it: conveyancing: 2 years after matter CONV-4 closed)`;
    const events = await count('events');
    const dryRun = await waBridge(dataDir, 'retention', 'run', '--dry-run');
    expect(dryRun.code, dryRun.stderr).toBe(0);
    expect(dryRun.stdout.split('\n')).toContain(held);
    expect(dryRun.stdout).not.toContain(`would delete ${chat.chatHeld}`);
    // Not named: kept by a rule, not by a hold alone.
    expect(dryRun.stdout).not.toContain(`kept ${chat.open}`);
    expect(dryRun.stdout).toMatch(/^0 deleted, 1 would be deleted, 0 refused, 5 kept \(2 only by a legal hold\)$/m);
    expect(await count('events')).toBe(events);
    const [entry] = (await auditOf(dataDir, 'retention.dry_run')).slice(-1);
    expect(entry).toMatchObject({ details: { conversations: 6, deleted: 0, wouldDelete: 1, held: 2 } });
  });

  it('deletes the expired conversation with a certificate, keeps the held one, and the archive still verifies', async () => {
    const result = await waBridge(dataDir, 'retention', 'run');
    expect(result.code, result.stderr).toBe(0);
    const certificate = new RegExp(`^deleted ${chat.expired}: conveyancing: 2 years after matter CONV-1 closed \\(certificate ([0-9a-f]{64})\\)$`, 'm').exec(result.stdout);
    expect(certificate).not.toBeNull();
    expect(await count('conversations', `chat_token = '${chat.expired}'`)).toBe(0);
    expect(await count('conversations', `chat_token = '${chat.held}'`)).toBe(1);
    expect(result.stdout.split('\n')).toContain(`kept ${chat.chatHeld}: legal hold ${chatHoldId} on conversation ${chat.chatHeld}: Police request about one client (without it: conveyancing: 2 years after matter CONV-4 closed)`);
    expect(await count('conversations', `chat_token = '${chat.chatHeld}'`)).toBe(1);
    expect(await count('blobs', `sha256 = '${photoSha}'`)).toBe(0);
    expect(existsSync(path.join(dataDir, 'blobs', photoSha.slice(0, 2), photoSha))).toBe(false);

    const handle = await db();
    const stored = (await handle.get<{ certificate_json: string; certificate_sha256: string }>('SELECT certificate_json, certificate_sha256 FROM deletion_certificates WHERE chat_id = ?', chat.expired))!;
    await handle.close();
    expect(stored.certificate_sha256).toBe(certificate![1]);
    expect(createHash('sha256').update(stored.certificate_json).digest('hex')).toBe(stored.certificate_sha256);
    const body = JSON.parse(stored.certificate_json) as { media: string[]; conversation: { events: number }; rule: string };
    expect(body).toMatchObject({ media: [photoSha], conversation: { events: 2 }, rule: 'conveyancing: 2 years after matter CONV-1 closed' });
    expect(stored.certificate_json).not.toContain(phones.expired);

    const audit = JSON.parse((await waBridge(dataDir, 'audit', '--target', `conversation:${chat.expired}`, '--format', 'json')).stdout.trim().split('\n')[0]!) as { action: string; details: { certificateSha256: string } };
    expect(audit).toMatchObject({ action: 'retention.delete', details: { certificateSha256: certificate![1] } });
    // The run itself: one entry with what it decided.
    expect((await auditOf(dataDir, 'retention.delete')).at(-1)).toMatchObject({ details: { conversations: 6, deleted: 1, wouldDelete: 0, held: 2 } });

    const verify = await waBridge(dataDir, 'verify');
    expect(verify.stdout).toMatch(/^OK /m);
    expect(verify.code).toBe(0);
  });

  it('lets no other path delete archived events', async () => {
    const handle = await db();
    try {
      await expect(handle.run('DELETE FROM events WHERE conversation_id = (SELECT id FROM conversations WHERE chat_token = ?)', chat.held)).rejects.toThrow(/append-only/);
    } finally {
      await handle.close();
    }
  });

  it('deletes the held conversation once its hold is released', async () => {
    const list = await waBridge(dataDir, 'hold', 'list');
    const id = /^(\d+)\tmatter CONV-2\tin force/m.exec(list.stdout)![1]!;
    // A release says why.
    const unexplained = await waBridge(dataDir, 'hold', 'release', id);
    expect(unexplained.code).toBe(2);
    expect(unexplained.stderr).toContain("error: required option '--reason <text>' not specified");
    expect((await waBridge(dataDir, 'hold', 'release', id, '--reason', 'Buyer withdrew the claim', '--by', 'Priya Shah (Compliance)')).stdout).toBe(`hold ${id} released\n`);
    expect((await waBridge(dataDir, 'hold', 'release', id, '--reason', 'Buyer withdrew the claim')).code).toBe(2);
    const result = await waBridge(dataDir, 'retention', 'run');
    expect(result.stdout).toMatch(new RegExp(`^deleted ${chat.held}: `, 'm'));
    expect(await count('conversations', `chat_token = '${chat.held}'`)).toBe(0);
  });

  it('records placing and releasing each hold in the audit trail: who, on what, why', async () => {
    const placed = await auditOf(dataDir, 'hold.place');
    expect(placed).toHaveLength(2);
    const matterHold = Number(/^(\d+)\tmatter CONV-2\t/m.exec((await waBridge(dataDir, 'hold', 'list', '--all')).stdout)![1]);
    expect(placed[0]).toMatchObject({ actor: expect.stringMatching(/^cli:/), source: expect.stringMatching(/^cli@/), target: 'matter:CONV-2', details: { hold: matterHold, reason: 'Claim threatened by the buyer' } });
    expect(placed[1]).toMatchObject({ target: `conversation:${chat.chatHeld}`, details: { hold: Number(chatHoldId), reason: 'Police request about one client' } });
    // One entry for the release; the refused second release of the same hold changed nothing and left none.
    expect(await auditOf(dataDir, 'hold.release')).toEqual([
      expect.objectContaining({ actor: expect.stringMatching(/^cli:/), target: `hold:${matterHold}`, details: { reason: 'Buyer withdrew the claim', by: 'Priya Shah (Compliance)' } }),
    ]);
    expect((await waBridge(dataDir, 'hold', 'list', '--all')).stdout).toMatch(new RegExp(`^${matterHold}\tmatter CONV-2\treleased \\S+ by Priya Shah \\(Compliance\\) \\(Buyer withdrew the claim\\)\t`, 'm'));

  });

  it('deletes the conversation once its own hold is released, with a certificate in the audit trail', async () => {
    expect((await waBridge(dataDir, 'hold', 'release', chatHoldId, '--reason', 'Police closed the enquiry')).stdout).toBe(`hold ${chatHoldId} released\n`);
    const dryRun = await waBridge(dataDir, 'retention', 'run', '--dry-run');
    expect(dryRun.stdout.split('\n')).toContain(`would delete ${chat.chatHeld}: conveyancing: 2 years after matter CONV-4 closed`);
    expect(await count('conversations', `chat_token = '${chat.chatHeld}'`)).toBe(1);

    const result = await waBridge(dataDir, 'retention', 'run');
    expect(result.code, result.stderr).toBe(0);
    const certificate = new RegExp(`^deleted ${chat.chatHeld}: conveyancing: 2 years after matter CONV-4 closed \\(certificate ([0-9a-f]{64})\\)$`, 'm').exec(result.stdout);
    expect(certificate, result.stdout).not.toBeNull();
    expect(await count('conversations', `chat_token = '${chat.chatHeld}'`)).toBe(0);
    expect(await auditOf(dataDir, 'hold.release')).toEqual([expect.anything(), expect.objectContaining({ target: `hold:${chatHoldId}` })]);
    const deletion = (await auditOf(dataDir, 'retention.delete')).find((entry) => entry.target === `conversation:${chat.chatHeld}`);
    expect(deletion).toMatchObject({ details: { certificateSha256: certificate![1], events: 1, rule: 'conveyancing: 2 years after matter CONV-4 closed' } });
    const handle = await db();
    try {
      const stored = await handle.get<{ certificate_sha256: string }>('SELECT certificate_sha256 FROM deletion_certificates WHERE chat_id = ?', chat.chatHeld);
      expect(stored?.certificate_sha256).toBe(certificate![1]);
    } finally {
      await handle.close();
    }
    expect((await waBridge(dataDir, 'verify')).code).toBe(0);
  });

  it('refuses erasure where a matter needs the record, erases where none does, and exports subject access', async () => {
    const refused = await waBridge(dataDir, 'gdpr', 'erase', '--phone', `+${phones.open}`, '--request', 'DSAR-7');
    expect(refused.stdout).toContain(`refused ${chat.open}: the firm must keep it: matter LIT-3 is open`);
    expect(await count('conversations', `chat_token = '${chat.open}'`)).toBe(1);

    const access = await waBridge(dataDir, 'gdpr', 'access', '--phone', `+${phones.open}`, '--out', path.join(dataDir, 'dsar.zip'));
    expect(access.stdout).toMatch(/dsar\.zip: 1 conversation\(s\), 1 event\(s\)/);
    expect((await waBridge(dataDir, 'verify-bundle', path.join(dataDir, 'dsar.zip'))).code).toBe(0);

    // A national number would find nothing for a client the firm has: it is refused, with the form to use.
    const national = await waBridge(dataDir, 'gdpr', 'access', '--phone', '07700 900503', '--out', path.join(dataDir, 'dsar-national.zip'));
    expect([national.code, national.stderr]).toEqual([2, 'wa-bridge: --phone: "07700 900503" is a national number; give it with its country code, such as +44 7700 900123 for 07700 900123\n']);
    const dialled = await waBridge(dataDir, 'gdpr', 'access', '--phone', `00${phones.open}`, '--out', path.join(dataDir, 'dsar-dialled.zip'));
    expect(dialled.stdout).toMatch(/dsar-dialled\.zip: 1 conversation\(s\), 1 event\(s\)/);

    const byUser = await waBridge(dataDir, 'gdpr', 'access', '--user', 'GB.1502576394655843', '--out', path.join(dataDir, 'dsar-user.zip'));
    expect(byUser.stdout).toMatch(/dsar-user\.zip: 1 conversation\(s\), 1 event\(s\)/);
    const both = await waBridge(dataDir, 'gdpr', 'erase', '--phone', `+${phones.open}`, '--user', 'GB.1502576394655843', '--request', 'DSAR-9');
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('exactly one of --phone NUMBER or --user WHATSAPP_USER_ID');

    // Before the erasure the client's words are in the store's files; after it, nowhere in them.
    const holdsWords = async () => (await Promise.all((await storeFiles()).map((file) => readFile(file)))).some((bytes) => bytes.includes('hello from unlinked'));
    expect(await holdsWords()).toBe(true);
    const erased = await waBridge(dataDir, 'gdpr', 'erase', '--phone', `+${phones.unlinked}`, '--request', 'DSAR-8', '--rewrite-tables');
    expect(erased.stdout).toContain(onPostgres ? 'the tables the deleted rows were in were rewritten (PostgreSQL VACUUM FULL)' : 'the deleted rows were overwritten in the database file (SQLite)');
    const erasureCertificate = new RegExp(`^deleted ${chat.unlinked}: erasure request DSAR-8 \\(certificate ([0-9a-f]{64})\\)$`, 'm').exec(erased.stdout);
    expect(erasureCertificate, erased.stdout).not.toBeNull();
    expect(await count('conversations', `chat_token = '${chat.unlinked}'`)).toBe(0);
    expect(await holdsWords()).toBe(false);
    // The certificate can be read back as stored, and its hash checked by anyone.
    const listed = await waBridge(dataDir, 'retention', 'certificates');
    expect(listed.stdout).toMatch(new RegExp(`^\\d+\\t${chat.unlinked}\\tdeleted \\S+\\terasure\\t1 event\\(s\\)\\tsha256:${erasureCertificate![1]}$`, 'm'));
    const shown = await waBridge(dataDir, 'retention', 'certificates', '--conversation', chat.unlinked);
    expect(createHash('sha256').update(shown.stdout.trimEnd()).digest('hex')).toBe(erasureCertificate![1]);
    expect(JSON.parse(shown.stdout)).toMatchObject({ reason: 'erasure', conversation: { chatId: chat.unlinked, events: 1 } });
    const none = await waBridge(dataDir, 'retention', 'certificates', '--conversation', chat.open);
    expect([none.code, none.stderr]).toEqual([2, `wa-bridge: no deletion certificate for conversation ${chat.open}: it was not deleted here\n`]);
    expect((await waBridge(dataDir, 'verify')).code).toBe(0);

    // Both kinds of request are in the audit trail, each with whom it concerned and what came of it.
    const accesses = await auditOf(dataDir, 'gdpr.access');
    expect(accesses).toEqual([
      expect.objectContaining({ actor: expect.stringMatching(/^cli:/), target: `phone:${phones.open}`, details: expect.objectContaining({ file: path.join(dataDir, 'dsar.zip'), conversations: 1, sha256: /SHA-256 ([0-9a-f]{64})/.exec(access.stdout)![1] }) }),
      expect.objectContaining({ target: `phone:${phones.open}`, details: expect.objectContaining({ file: path.join(dataDir, 'dsar-dialled.zip'), conversations: 1, chatIds: chat.open }) }),
      expect.objectContaining({ target: 'whatsapp-user:GB.1502576394655843', details: expect.objectContaining({ file: path.join(dataDir, 'dsar-user.zip'), conversations: 1 }) }),
    ]);
    const erasures = await auditOf(dataDir, 'gdpr.erasure');
    // The refusal, with its reason, then the request's outcome; the erasure with its certificate, then its outcome.
    // The request naming the person twice was refused before it was one and left nothing.
    expect(erasures).toEqual([
      expect.objectContaining({ target: `conversation:${chat.open}`, details: { request: 'DSAR-7', outcome: 'refused', reason: 'the firm must keep it: matter LIT-3 is open' } }),
      expect.objectContaining({ target: 'request:DSAR-7', details: { dryRun: false, erased: 0, refused: 1 } }),
      expect.objectContaining({ target: `conversation:${chat.unlinked}`, details: expect.objectContaining({ certificateSha256: erasureCertificate![1], events: 1, rule: 'erasure request DSAR-8' }) }),
      // With how the deleted rows left the files: nothing was deleted for DSAR-7, so nothing to say there.
      expect.objectContaining({ target: 'request:DSAR-8', details: { dryRun: false, erased: 1, refused: 0, sweep: onPostgres ? 'rewritten' : 'overwritten' } }),
    ]);
  });

  it('places a second hold on a matter for other proceedings, naming the one already in force', async () => {
    const first = await waBridge(dataDir, 'hold', 'place', '--matter', 'LIT-3', '--reason', 'Regulator review 2026/14', '--by', 'Priya Shah (Compliance)');
    const firstId = /^hold (\d+) placed on matter LIT-3\n$/.exec(first.stdout)![1]!;
    const second = await waBridge(dataDir, 'hold', 'place', '--matter', 'lit-3', '--reason', 'Counterclaim by the landlord');
    expect(second.stdout).toMatch(new RegExp(`^hold \\d+ placed on matter lit-3\nalso in force on it: hold ${firstId} \\(Regulator review 2026/14\\)\n$`));
    expect((await auditOf(dataDir, 'hold.place')).at(-2)).toMatchObject({ target: 'matter:LIT-3', details: { reason: 'Regulator review 2026/14', by: 'Priya Shah (Compliance)' } });
  });
});
