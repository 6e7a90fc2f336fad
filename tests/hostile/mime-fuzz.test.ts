import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { sql } from 'kysely';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeZip } from '../../bridge-server/src/channels/chat-export/zip-builder.js';
import { startMailCatcher, type MailCatcher } from '../../bridge-server/src/sandbox/catcher.js';
import { startBridgeWorld, waitFor, type BridgeWorld } from '../support/bridge.js';
import { runWaBridge } from '../support/cli.js';
import { RawSmtpClient, type SmtpAnswer } from './smtp-client.js';
import { digestTables, fuzzParameters, fuzzTimeout, lastRowIds, unfinishedJobs } from './support.js';

/**
 * Hostile MIME sent to the bridge's email-reply intake over real SMTP. Whatever the mail, the
 * intake answers with a clear SMTP reply (accepted, ignored or refused; never a temporary failure
 * or a dropped connection), and only what a solicitor wrote reaches the client: no quoted
 * history, safe file names, at most what WhatsApp takes; everything archived before is unchanged.
 */

const solicitor = 'tom.baker@firm.test';
const clientNumber = '447700900901';
/** Text that sits only in the quoted history of every reply; the client must never receive it. */
const quotedSecret = 'QUOTEDHISTORY7731';

let catcher: MailCatcher;
let world: BridgeWorld;
let smtp: RawSmtpClient;
let replyAddress = '';
let originalMessageId = '';
let conversationId = 0;
let scratch = '';

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'wab-mime-fuzz-'));
  catcher = await startMailCatcher({ keep: 5000 });
  world = await startBridgeWorld({
    smtpUrl: catcher.url,
    mailbox: 'solicitors@firm.test',
    env: { WA_BRIDGE_REPLY_SMTP_PORT: '0', WA_BRIDGE_REPLY_SMTP_HOST: '127.0.0.1', WA_BRIDGE_ALLOWED_SENDERS: '@firm.test' },
  });
  const envelope = world.simulator.inboundMessage({ from: clientNumber, name: 'Jane Smith', type: 'text', body: `Has the landlord signed? ${quotedSecret}` });
  const waMessageId = (envelope.entry[0]!.changes[0]!.value.messages as Array<{ id: string }>)[0]!.id;
  expect((await world.simulator.postWebhook(envelope)).status).toBe(200);
  let mirrored: Awaited<ReturnType<typeof simpleParser>> | undefined;
  await waitFor(
    async () => {
      for (const mail of catcher.mails()) {
        const parsed = await simpleParser(mail.raw);
        if (parsed.headers.get('x-whatsapp-message-id') === waMessageId) mirrored = parsed;
      }
      return mirrored !== undefined;
    },
    20_000,
    () => 'the client message was not mirrored',
  );
  replyAddress = mirrored!.replyTo!.value[0]!.address!;
  originalMessageId = mirrored!.messageId!.replace(/^<|>$/g, '');
  conversationId = (await world.bridge.store.db.selectFrom('events').select('conversation_id').where('wa_message_id', '=', waMessageId).executeTakeFirstOrThrow()).conversation_id;
  smtp = await RawSmtpClient.open(world.bridge.replyIntakePort!);
});

afterAll(async () => {
  await smtp?.quit();
  await world?.stop();
  await catcher?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

const db = () => world.bridge.store.db;
const commandCount = async () => Number((await sql<{ n: number }>`SELECT count(*) AS n FROM outbound_commands`.execute(db())).rows[0]!.n);

type Outcome = 'accepted' | 'ignored' | 'rejected';

/** What the intake said, as the sending MTA reads it: a final answer, never "try again later". */
function outcomeOf(answer: SmtpAnswer): Outcome {
  expect(answer.code, answer.text).not.toBe(0);
  if (answer.code === 250) {
    expect(answer.text).toMatch(/reply accepted|not relayed/);
    return /not relayed/.test(answer.text) ? 'ignored' : 'accepted';
  }
  expect([550, 552, 554], `${answer.code} ${answer.text}`).toContain(answer.code);
  return 'rejected';
}

/** Send one raw mail to the chat's reply address; a fresh connection if the last one was closed. */
async function deliver(raw: Buffer, envelope: { from: string; to: string[] } = { from: solicitor, to: [replyAddress] }): Promise<SmtpAnswer> {
  if (smtp.isClosed) smtp = await RawSmtpClient.open(world.bridge.replyIntakePort!);
  return smtp.send(envelope, raw);
}

/** A file name a solicitor's client could save anywhere without harm (core/file-name.ts's promise). */
function expectSafeFileName(name: string): void {
  expect(name.length).toBeGreaterThan(0);
  expect(name.length).toBeLessThanOrEqual(120);
  expect(name).not.toMatch(/[/\\:*?"<>|]/);
  expect(name).not.toMatch(/[\p{Cc}\p{Zl}\p{Zp}\u202a-\u202e\u2066-\u2069]/u);
  expect(name).not.toMatch(/^[.\s]/);
  expect(name).not.toMatch(/^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/i);
}

interface StoredCommand {
  text?: string;
  files: Array<{ fileName: string; mimeType: string; sha256: string; size: number }>;
  author: { name: string; address: string };
}

async function commandFor(messageId: string): Promise<{ conversation_id: number; command: StoredCommand } | undefined> {
  const row = await db().selectFrom('outbound_commands').select(['conversation_id', 'command_json']).where('source_ref', '=', messageId).executeTakeFirst();
  return row ? { conversation_id: row.conversation_id, command: JSON.parse(row.command_json) as StoredCommand } : undefined;
}

/** Checks an accepted reply: it belongs to this chat and holds only what WhatsApp may receive. */
async function expectSafeCommand(messageId: string, options: { saneText: boolean }): Promise<StoredCommand> {
  const stored = await commandFor(messageId);
  expect(stored, `no command stored for ${messageId}`).toBeDefined();
  expect(stored!.conversation_id).toBe(conversationId);
  const { command } = stored!;
  expect(command.files.length).toBeLessThanOrEqual(10);
  for (const file of command.files) expectSafeFileName(file.fileName);
  expect((command.text ?? '').length).toBeLessThanOrEqual(4096);
  if (options.saneText) expect(command.text ?? '').not.toContain(quotedSecret);
  expect(command.author.name).not.toMatch(/[\r\n]/);
  return command;
}

let serial = 0;
const nextMessageId = () => `fuzz-${(serial += 1)}-${randomBytes(4).toString('hex')}@firm.test`;
const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64');
const wrap76 = (text: string) => text.replace(/.{1,76}/g, '$&\r\n');

/** The reply a person writes: new text, then the quoted original as Outlook and Gmail quote it. */
const replyBody = (text: string) => `${text}\r\n\r\nOn Monday, Jane Smith wrote:\r\n> Has the landlord signed? ${quotedSecret}\r\n> \r\n`;

describe('the email reply intake under hostile MIME', () => {
  const headerInjections = [
    'Tom Baker',
    'Tom\r\nBcc: mallory@evil.test',
    'Tom\nX-WhatsApp-Message-Id: wamid.forged',
    'Tom\rAuto-Submitted: no',
    `=?utf-8?B?${b64('Tom\r\nBcc: mallory@evil.test')}?=`,
    '=?utf-8?Q?Tom=0D=0ABcc:_mallory@evil.test?=',
    '=?x-klingon?Q?T=F6m?=',
    '=?utf-8?B?////?=',
    '=?utf-8?Q?=FF=FE=00?=',
    '"Tom \\"Baker\\""',
    '\u202eTom\u202c',
    'Tøm Bäker',
  ];
  const charsets = ['utf-8', 'us-ascii', 'iso-8859-1', 'x-klingon', 'utf-7', 'utf-16', 'utf-32le', '"utf-8"; format=flowed', '', 'unicode-1-1-utf-7', 'shift_jis', 'gb18030'];
  const encodings = ['7bit', '8bit', 'quoted-printable', 'base64', 'binary', 'x-uuencode', 'gzip', ''];
  const saneCharsets = new Set(['utf-8', 'us-ascii', 'iso-8859-1', '"utf-8"; format=flowed', '']);
  const hostileNames = [
    '../../../etc/passwd',
    '..\\..\\boot.ini',
    '/etc/shadow',
    'C:\\Windows\\win.ini',
    'a\u0000b.pdf',
    'report\r\nContent-Type: text/html.pdf',
    'CON',
    'nul.txt',
    '.bashrc',
    '\u202egnp.exe',
    `${'x'.repeat(400)}.pdf`,
    '',
    '....',
    '~/.ssh/authorized_keys',
    'résumé final.pdf',
    '%2e%2e%2fpasswd',
    'lease?.pdf',
  ];

  type Body =
    | { kind: 'text'; text: string; charset: string; encoding: string; bytes?: Uint8Array }
    | { kind: 'nested'; depth: number; breakage: 'none' | 'missing-close' | 'wrong-boundary' | 'no-boundary' | 'empty-boundary' | 'boundary-in-body' }
    | { kind: 'attachments'; files: Array<{ name: string; naming: 'quoted' | 'rfc2231' | 'encoded-word' | 'content-type'; size: number; brokenBase64: boolean }> };

  const bodyArb: fc.Arbitrary<Body> = fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('text' as const),
        text: fc.oneof(fc.constantFrom('Yes, he signed this morning.', 'Friday at 3pm works.'), fc.string({ unit: 'binary', minLength: 1, maxLength: 80 }), fc.integer({ min: 4000, max: 9000 }).map((n) => 'w'.repeat(n))),
        charset: fc.constantFrom(...charsets),
        encoding: fc.constantFrom(...encodings),
        bytes: fc.option(fc.uint8Array({ minLength: 1, maxLength: 64 }), { nil: undefined }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('nested' as const),
        depth: fc.integer({ min: 1, max: 400 }),
        breakage: fc.constantFrom('none' as const, 'missing-close' as const, 'wrong-boundary' as const, 'no-boundary' as const, 'empty-boundary' as const, 'boundary-in-body' as const),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('attachments' as const),
        files: fc.array(
          fc.record({
            name: fc.oneof(fc.constantFrom(...hostileNames), fc.string({ unit: 'binary', maxLength: 40 })),
            naming: fc.constantFrom('quoted' as const, 'rfc2231' as const, 'encoded-word' as const, 'content-type' as const),
            size: fc.integer({ min: 0, max: 4096 }),
            brokenBase64: fc.boolean(),
          }),
          { minLength: 1, maxLength: 14 },
        ),
      }),
    },
  );

  const caseArb = fc.record({
    fromName: fc.oneof(fc.constantFrom(...headerInjections), fc.string({ unit: 'binary', maxLength: 30 }), fc.integer({ min: 200, max: 5000 }).map((n) => 'T'.repeat(n))),
    subject: fc.oneof(fc.constantFrom(...headerInjections.map((h) => `RE: ${h}`)), fc.string({ unit: 'binary', maxLength: 60 })),
    messageId: fc.constantFrom('fresh' as const, 'fresh' as const, 'fresh' as const, 'missing' as const, 'huge' as const, 'crlf' as const),
    padding: fc.oneof(
      { weight: 4, arbitrary: fc.constant({ lines: 0, length: 0 }) },
      { weight: 1, arbitrary: fc.record({ lines: fc.integer({ min: 1, max: 3000 }), length: fc.integer({ min: 1, max: 300 }) }) },
      { weight: 1, arbitrary: fc.record({ lines: fc.constant(1), length: fc.integer({ min: 1000, max: 400_000 }) }) },
    ),
    bareLf: fc.boolean(),
    body: bodyArb,
  });
  type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

  function textPart(text: string, charset: string, encoding: string, bytes?: Uint8Array): string {
    const content = Buffer.concat([Buffer.from(replyBody(text)), Buffer.from(bytes ?? [])]);
    const encoded = encoding === 'base64' ? wrap76(content.toString('base64')) : encoding === 'quoted-printable' ? content.toString('latin1').replace(/=/g, '=3D') : content.toString('latin1');
    return `Content-Type: text/plain${charset ? `; charset=${charset}` : ''}\r\n${encoding ? `Content-Transfer-Encoding: ${encoding}\r\n` : ''}\r\n${encoded}`;
  }

  function nestedPart(depth: number, breakage: Extract<Body, { kind: 'nested' }>['breakage']): string {
    let inner = textPart('Nested reply text.', 'utf-8', '7bit');
    for (let level = 0; level < depth; level += 1) {
      const boundary = `b${level}x`;
      const declared = breakage === 'no-boundary' ? '' : breakage === 'empty-boundary' ? '; boundary=""' : `; boundary="${boundary}"`;
      const used = breakage === 'wrong-boundary' ? `c${level}y` : boundary;
      const close = breakage === 'missing-close' ? '' : `--${used}--\r\n`;
      const stray = breakage === 'boundary-in-body' ? `\r\nthis line says --${used} in the text\r\n` : '';
      inner = `Content-Type: multipart/mixed${declared}\r\n\r\npreamble${stray}\r\n--${used}\r\n${inner}\r\n${close}`;
    }
    return inner;
  }

  function attachmentsPart(files: Extract<Body, { kind: 'attachments' }>['files']): string {
    const boundary = 'att-boundary-7c1f';
    const parts = [textPart('The signed copy is attached.', 'utf-8', '7bit')];
    files.forEach((file, i) => {
      const bytes = Buffer.alloc(file.size, i + 1);
      const name = file.name;
      const disposition =
        file.naming === 'quoted'
          ? `Content-Disposition: attachment; filename="${name}"`
          : file.naming === 'rfc2231'
            ? `Content-Disposition: attachment; filename*=utf-8''${encodeURIComponent(name)}`
            : file.naming === 'encoded-word'
              ? `Content-Disposition: attachment; filename="=?utf-8?B?${b64(name)}?="`
              : 'Content-Disposition: attachment';
      const type = file.naming === 'content-type' ? `application/octet-stream; name="${name}"` : 'application/pdf';
      const data = file.brokenBase64 ? '!!not*base64==@@\r\n' : wrap76(bytes.toString('base64'));
      parts.push(`Content-Type: ${type}\r\n${disposition}\r\nContent-Transfer-Encoding: base64\r\n\r\n${data}`);
    });
    return `Content-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n${parts.map((p) => `--${boundary}\r\n${p}\r\n`).join('')}--${boundary}--\r\n`;
  }

  function build(c: Case): { raw: Buffer; messageId: string | undefined; saneText: boolean } {
    const fresh = nextMessageId();
    const messageId = c.messageId === 'fresh' ? fresh : c.messageId === 'huge' ? `${'m'.repeat(1200)}${fresh}` : c.messageId === 'crlf' ? `${fresh}\r\nBcc: mallory@evil.test` : undefined;
    const body = c.body.kind === 'text' ? textPart(c.body.text, c.body.charset, c.body.encoding, c.body.bytes) : c.body.kind === 'nested' ? nestedPart(c.body.depth, c.body.breakage) : attachmentsPart(c.body.files);
    const padding = c.padding.lines > 0 ? Array.from({ length: c.padding.lines }, (_, i) => `X-Pad-${i}: ${'p'.repeat(c.padding.length)}\r\n`).join('') : '';
    const head = [
      `From: ${c.fromName} <${solicitor}>`,
      `To: <${replyAddress}>`,
      `Subject: ${c.subject}`,
      ...(messageId !== undefined ? [`Message-ID: <${messageId}>`] : []),
      `In-Reply-To: <${originalMessageId}>`,
      `References: <${originalMessageId}>`,
      'MIME-Version: 1.0',
    ].join('\r\n');
    let text = `${head}\r\n${padding}${body}`;
    if (c.bareLf) text = text.replace(/\r\n/g, '\n');
    const saneText = c.body.kind !== 'text' || (saneCharsets.has(c.body.charset) && ['7bit', '8bit', 'quoted-printable', 'base64', 'binary', ''].includes(c.body.encoding) && c.body.bytes === undefined);
    return { raw: Buffer.from(text, 'latin1').length === text.length ? Buffer.from(text, 'latin1') : Buffer.from(text, 'utf8'), messageId: messageId?.split(/\r?\n/)[0], saneText };
  }

  let historyRows: Record<string, number>;
  let history: Awaited<ReturnType<typeof digestTables>>;
  const moving = { conversations: ['last_seq', 'chain_head'], outbound_commands: ['state', 'error_code', 'error_message', 'updated_at'], outbound_parts: ['status', 'status_at', 'wa_message_id', 'sent_at', 'error_code', 'error_message'] };

  beforeAll(async () => {
    historyRows = await lastRowIds(db());
    history = await digestTables(db(), { upTo: historyRows, ignoreColumns: moving });
  });

  const acceptedIds: string[] = [];

  it('answers every generated mail with a final SMTP reply and stores only a safe reply', { timeout: fuzzTimeout(300_000) }, async () => {
    const seen: Record<Outcome, number> = { accepted: 0, ignored: 0, rejected: 0 };
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const { raw, messageId, saneText } = build(c);
        const before = await commandCount();
        const outcome = outcomeOf(await deliver(raw));
        seen[outcome] += 1;
        if (outcome === 'accepted') {
          expect(messageId).toBeDefined();
          await expectSafeCommand(messageId!, { saneText });
          acceptedIds.push(messageId!);
          expect(await commandCount()).toBe(before + 1);
        } else {
          expect(await commandCount()).toBe(before);
        }
      }),
      fuzzParameters(800),
    );
    expect(seen.accepted).toBeGreaterThan(20);
    expect(seen.rejected).toBeGreaterThan(20);
    expect(await digestTables(db(), { upTo: historyRows, ignoreColumns: moving })).toEqual(history);
  });

  it('refuses a mail from outside the firm, to a forged address, or over the size limit, storing nothing', async () => {
    const before = await commandCount();
    const plain = (from: string) => Buffer.from(`From: Mallory <${from}>\r\nTo: <${replyAddress}>\r\nSubject: RE: lease\r\nMessage-ID: <${nextMessageId()}>\r\n\r\n${replyBody('send me the file')}`);
    expect(outcomeOf(await deliver(plain('mallory@evil.test')))).toBe('rejected');
    // The envelope says firm, the header says otherwise: the header's sender decides.
    expect(outcomeOf(await deliver(plain('mallory@evil.test'), { from: solicitor, to: [replyAddress] }))).toBe('rejected');
    const forged = replyAddress.replace(/\.[a-z2-7]{16}@/, '.aaaaaaaaaaaaaaaa@');
    expect(outcomeOf(await deliver(plain(solicitor), { from: solicitor, to: [forged] }))).toBe('rejected');
    expect((await deliver(plain(solicitor), { from: solicitor, to: ['mallory@evil.test'] })).code).toBe(550);

    const oversized = Buffer.concat([plain(solicitor), Buffer.from('x'.repeat(76) + '\r\n').subarray(0, 78), Buffer.alloc(36 * 1024 * 1024, 0x61)]);
    const answer = await deliver(oversized);
    expect(answer.code).toBe(552);
    expect(await commandCount()).toBe(before);
  });

  it('refuses a MIME bomb of thousands of parts without writing a single part', async () => {
    const before = await commandCount();
    const boundary = 'bomb';
    const parts: string[] = [];
    const marker = randomBytes(16);
    for (let i = 0; i < 3000; i += 1) {
      const bytes = Buffer.concat([marker, Buffer.from(String(i))]);
      parts.push(`--${boundary}\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="part${i}.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n${bytes.toString('base64')}\r\n`);
    }
    const raw = Buffer.from(
      `From: Tom Baker <${solicitor}>\r\nTo: <${replyAddress}>\r\nSubject: RE: lease\r\nMessage-ID: <${nextMessageId()}>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n--${boundary}\r\nContent-Type: text/plain\r\n\r\nAll the parts.\r\n${parts.join('')}--${boundary}--\r\n`,
    );
    const answer = await deliver(raw);
    expect(outcomeOf(answer)).toBe('rejected');
    expect(answer.text).toMatch(/attachments|MIME/i);
    expect(await commandCount()).toBe(before);
    for (const i of [0, 1, 2999]) {
      const hash = createHash('sha256').update(Buffer.concat([marker, Buffer.from(String(i))])).digest('hex');
      expect(existsSync(path.join(world.dataDir, 'blobs', hash.slice(0, 2), hash))).toBe(false);
    }
  });

  it('refuses an empty reply and one longer than WhatsApp takes, with a reason the sender can read', async () => {
    const before = await commandCount();
    const mail = (text: string) => Buffer.from(`From: Tom Baker <${solicitor}>\r\nTo: <${replyAddress}>\r\nSubject: RE: lease\r\nMessage-ID: <${nextMessageId()}>\r\nIn-Reply-To: <${originalMessageId}>\r\n\r\n${replyBody(text)}`);
    const empty = await deliver(mail(''));
    expect(outcomeOf(empty)).toBe('rejected');
    expect(empty.text).toMatch(/nothing to send|no text/i);
    const long = await deliver(mail('word '.repeat(1200)));
    expect(outcomeOf(long)).toBe('rejected');
    expect(long.text).toMatch(/4096/);
    expect(await commandCount()).toBe(before);
  });

  it('handles each hand-written nasty mail as intended', { timeout: 120_000 }, async () => {
    const head = (messageId: string, extra = '') =>
      `From: Tom Baker <${solicitor}>\r\nTo: <${replyAddress}>\r\nSubject: RE: lease\r\nMessage-ID: <${messageId}>\r\nIn-Reply-To: <${originalMessageId}>\r\nMIME-Version: 1.0\r\n${extra}`;
    const attachment = (disposition: string, bytes: Buffer) =>
      `--nb\r\nContent-Type: application/pdf\r\nContent-Disposition: ${disposition}\r\nContent-Transfer-Encoding: base64\r\n\r\n${wrap76(bytes.toString('base64'))}`;
    const fixtures: Array<{ what: string; raw: (id: string) => Buffer; expect: Outcome; reason?: RegExp; check?: (command: StoredCommand) => void }> = [
      {
        what: 'a display name whose encoded word hides a line break and a Bcc header',
        raw: (id) => Buffer.from(head(id).replace('From: Tom Baker', `From: =?utf-8?B?${b64('Tom Baker\r\nBcc: mallory@evil.test')}?=`) + `\r\n${replyBody('Signed today.')}`),
        expect: 'accepted',
        check: (command) => {
          expect(command.author.name).toBe('Tom Baker Bcc: mallory@evil.test');
          expect(command.text).toBe('Signed today.');
        },
      },
      {
        what: 'a subject with raw CR/LF that starts an Auto-Submitted header',
        raw: (id) => Buffer.from(head(id).replace('Subject: RE: lease', 'Subject: RE: lease\r\nAuto-Submitted: auto-replied') + `\r\n${replyBody('I am away.')}`),
        expect: 'ignored',
        reason: /automatic mail/,
      },
      {
        what: 'multiparts nested a thousand deep',
        raw: (id) => {
          let inner = `Content-Type: text/plain\r\n\r\n${replyBody('Deep down.')}`;
          for (let level = 0; level < 1000; level += 1) inner = `Content-Type: multipart/mixed; boundary="d${level}"\r\n\r\n--d${level}\r\n${inner}\r\n--d${level}--\r\n`;
          return Buffer.from(head(id) + inner);
        },
        expect: 'rejected',
        reason: /could not be read as MIME/,
      },
      {
        what: 'one header line of two megabytes',
        raw: (id) => Buffer.from(head(id, `X-Huge: ${'h'.repeat(2 * 1024 * 1024)}\r\n`) + `\r\n${replyBody('After a huge header.')}`),
        expect: 'rejected',
        reason: /could not be read as MIME/,
      },
      {
        what: 'an unknown charset and bytes that are not UTF-8',
        raw: (id) =>
          Buffer.concat([Buffer.from(head(id, 'Content-Type: text/plain; charset=x-klingon\r\nContent-Transfer-Encoding: 8bit\r\n') + '\r\nQapla\xff\xfe '), Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xf0, 0x28, 0x8c, 0x28]), Buffer.from(`\r\n${replyBody('').trimStart()}`)]),
        expect: 'accepted',
        check: (command) => {
          expect(command.text).toMatch(/^Qapla/);
          expect(command.text).not.toContain(quotedSecret);
        },
      },
      {
        what: 'a multipart whose boundary never appears',
        raw: (id) => Buffer.from(head(id, 'Content-Type: multipart/mixed; boundary="never"\r\n') + `\r\n--other\r\nContent-Type: text/plain\r\n\r\n${replyBody('Lost text.')}--other--\r\n`),
        expect: 'rejected',
        reason: /nothing to send/,
      },
      {
        what: 'path traversal, device names, controls and bidi overrides in attachment names',
        raw: (id) =>
          Buffer.from(
            head(id, 'Content-Type: multipart/mixed; boundary="nb"\r\n') +
              `\r\n--nb\r\nContent-Type: text/plain\r\n\r\nFiles attached.\r\n` +
              [
                'attachment; filename="../../../etc/passwd"',
                'attachment; filename="..\\..\\Windows\\win.ini"',
                "attachment; filename*=utf-8''%2E%2E%2F%2E%2E%2Fsecret%00.pdf",
                'attachment; filename="CON.pdf"',
                `attachment; filename="=?utf-8?B?${b64('\u202egnp.exe\r\nX-Evil: 1')}?="`,
                `attachment; filename="${'n'.repeat(300)}.pdf"`,
              ]
                .map((d, i) => attachment(d, Buffer.from(`file ${i}`)))
                .join('\r\n') +
              '\r\n--nb--\r\n',
          ),
        expect: 'accepted',
        check: (command) => {
          expect(command.files).toHaveLength(6);
          expect(command.files.map((f) => f.fileName)).toEqual([expect.stringMatching(/passwd$/), expect.stringMatching(/win\.ini$/), expect.stringMatching(/secret.*\.pdf$/), '_CON.pdf', expect.any(String), expect.stringMatching(/^n{116}\.pdf$/)]);
        },
      },
      {
        what: 'eleven attachments, one more than a WhatsApp reply may carry',
        raw: (id) =>
          Buffer.from(
            head(id, 'Content-Type: multipart/mixed; boundary="nb"\r\n') +
              `\r\n--nb\r\nContent-Type: text/plain\r\n\r\nEleven files.\r\n` +
              Array.from({ length: 11 }, (_, i) => attachment(`attachment; filename="f${i}.pdf"`, Buffer.from(`eleven ${i}`))).join('\r\n') +
              '\r\n--nb--\r\n',
          ),
        expect: 'rejected',
        reason: /attachments: .*10/,
      },
    ];
    for (const fixture of fixtures) {
      const before = await commandCount();
      const messageId = nextMessageId();
      const answer = await deliver(fixture.raw(messageId));
      if (fixture.reason) expect(answer.text, fixture.what).toMatch(fixture.reason);
      const outcome = outcomeOf(answer);
      expect(outcome, fixture.what).toBe(fixture.expect);
      if (outcome === 'accepted') {
        const command = await expectSafeCommand(messageId, { saneText: true });
        fixture.check?.(command);
        acceptedIds.push(messageId);
      } else {
        expect(await commandCount(), fixture.what).toBe(before);
      }
    }
  });

  it('passes a zip bomb on as the opaque file it is, and never unpacks it', async () => {
    const file = path.join(scratch, 'bomb.zip');
    await writeZip(file, [{ name: 'zeros.bin', bytes: Buffer.alloc(64 * 1024 * 1024) }]);
    const zip = await readFile(file);
    expect(zip.length).toBeLessThan(1024 * 1024);
    const messageId = nextMessageId();
    const boundary = 'zipb';
    const raw = Buffer.from(
      `From: Tom Baker <${solicitor}>\r\nTo: <${replyAddress}>\r\nSubject: RE: lease\r\nMessage-ID: <${messageId}>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n--${boundary}\r\nContent-Type: text/plain\r\n\r\nThe archive you asked for.\r\n--${boundary}\r\nContent-Type: application/zip\r\nContent-Disposition: attachment; filename="../../bomb.zip"\r\nContent-Transfer-Encoding: base64\r\n\r\n${wrap76(zip.toString('base64'))}--${boundary}--\r\n`,
    );
    expect(outcomeOf(await deliver(raw))).toBe('accepted');
    const command = await expectSafeCommand(messageId, { saneText: true });
    expect(command.files).toEqual([{ fileName: expect.stringMatching(/bomb\.zip$/), mimeType: 'application/zip', sha256: createHash('sha256').update(zip).digest('hex'), size: zip.length }]);
    acceptedIds.push(messageId);
  });

  it('carries a base64 part that decodes to 24 MiB, just under the intake limit, as exactly those bytes', { timeout: 120_000 }, async () => {
    const bytes = randomBytes(24 * 1024 * 1024);
    const messageId = nextMessageId();
    const raw = Buffer.from(
      `From: Tom Baker <${solicitor}>\r\nTo: <${replyAddress}>\r\nSubject: RE: lease\r\nMessage-ID: <${messageId}>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="big"\r\n\r\n--big\r\nContent-Type: text/plain\r\n\r\nThe scans.\r\n--big\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="scans.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n${wrap76(bytes.toString('base64'))}--big--\r\n`,
    );
    expect(raw.length).toBeLessThan(35 * 1024 * 1024);
    expect(outcomeOf(await deliver(raw))).toBe('accepted');
    const command = await expectSafeCommand(messageId, { saneText: true });
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    expect(command.files).toEqual([{ fileName: 'scans.pdf', mimeType: 'application/pdf', sha256, size: bytes.length }]);
    acceptedIds.push(messageId);
    let media: Buffer | undefined;
    await waitFor(
      () => {
        const sent = world.simulator.sent.find((m) => (m.body as { document?: { filename?: string } }).document?.filename === 'scans.pdf');
        media = sent ? world.simulator.mediaById((sent.body as { document: { id: string } }).document.id)?.bytes : undefined;
        return media !== undefined;
      },
      60_000,
      () => 'the 24 MiB file was not sent',
    );
    expect(createHash('sha256').update(media!).digest('hex')).toBe(sha256);
  });

  it('sends the client only what the accepted replies hold, to the client alone, and the archive verifies', { timeout: 120_000 }, async () => {
    await waitFor(async () => (await unfinishedJobs(db())) === 0, 90_000, async () => `${await unfinishedJobs(db())} jobs not finished`);
    const sent = world.simulator.sent;
    expect(sent.length).toBeGreaterThanOrEqual(acceptedIds.length);
    for (const message of sent) {
      expect(message.to).toBe(clientNumber);
      const body = message.body as { text?: { body: string }; document?: { filename?: string; caption?: string } };
      const text = body.text?.body ?? body.document?.caption ?? '';
      expect(text).not.toContain('mallory@evil.test');
      if (body.document?.filename !== undefined) expectSafeFileName(body.document.filename);
    }
    const states = await db().selectFrom('outbound_commands').select(['source_ref', 'state']).execute();
    const byRef = new Map(states.map((s) => [s.source_ref, s.state]));
    for (const id of acceptedIds) expect(byRef.get(id), id).toBe('sent');
    const verify = await runWaBridge(world.dataDir, ['verify']);
    expect(verify.code, `${verify.stdout}\n${verify.stderr}`).toBe(0);
  });
});
