import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BadInputError } from '../../core/errors.js';
import { buildRelayMail, type RelayMailInput } from '../../core/relay-mail.js';
import { makeAttachmentRecord, makeConversationRecord, makeMessageRecord, makeTextRecord, testDomain, testTenant } from '../../core/test-records.js';
import { blobCipher } from '../../store/blob-cipher.js';
import { FileBlobStore } from '../../store/blob-files.js';
import { INLINE_BLOB_BYTES } from '../../store/blob-inline.js';
import { DeterministicComposer } from './composer.js';
import { ThreadedComposer } from './threaded-composer.js';

function inputOf(overrides: Partial<RelayMailInput> = {}): RelayMailInput {
  const conversation = makeConversationRecord();
  return {
    tenant: testTenant,
    mailDomain: testDomain,
    mailbox: 'whatsapp@firm.example',
    replyAddress: `wa+${conversation.chatToken}.mac0mac0mac0mac0@${testDomain}`,
    conversation,
    event: makeTextRecord('Hello'),
    previous: [],
    attachments: [],
    archiveHash: 'ab'.repeat(32),
    timeZone: 'Europe/London',
    ...overrides,
  };
}

const mailOf = (overrides: Partial<RelayMailInput> = {}) => buildRelayMail(inputOf(overrides));

describe('ThreadedComposer', () => {
  const threaded = new ThreadedComposer();
  const inline = new DeterministicComposer();
  afterAll(() => threaded.close());

  it('writes the same bytes as the composer on the main thread, attachments included', async () => {
    const image = makeMessageRecord({ type: 'image', media: { waMediaId: 'img-1', mimeType: 'image/jpeg' } });
    const mails = [
      mailOf(),
      mailOf({ event: makeTextRecord('Zoë <b>bold</b> ünïcödé') }),
      mailOf({ event: image, attachments: [{ record: makeAttachmentRecord({ waMediaId: 'img-1' }), content: randomBytes(200_000) }] }),
      mailOf({ event: null }),
    ];
    // Sent all at once, before the thread has loaded: every request is answered, each with its own mail.
    const raws = await Promise.all(mails.map((mail) => threaded.compose(mail)));
    for (const [i, mail] of mails.entries()) expect(raws[i]!.equals(await inline.compose(mail))).toBe(true);
  });

  it('fails a mail the composer refuses with the same BadInputError, and keeps working', async () => {
    const mail = mailOf();
    const error = await threaded.compose({ ...mail, subject: 'Hi\r\nBcc: evil@x.test' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadInputError);
    expect((error as BadInputError).code).toBe('header_injection');
    expect((await threaded.compose(mail)).equals(await inline.compose(mail))).toBe(true);
  });

  it('builds and composes a relayed mail: the same Message-ID and bytes as on the main thread; a large one stored before it answers, a small one handed back for its row', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'wab-composer-blobs-'));
    const relaying = new ThreadedComposer({ blobRoot: dir });
    try {
      const image = makeMessageRecord({ type: 'image', media: { waMediaId: 'img-2', mimeType: 'image/jpeg' } });
      // Quoting an earlier message, naming twenty earlier mails, with the raw webhook payload the thread is not sent.
      const earlier = Array.from({ length: 20 }, (_, n) => ({ ...makeTextRecord(`Earlier ${n}`), seq: n + 1, waMessageId: `wamid.earlier-${n}` }));
      const quoting = { ...makeTextRecord('As I said above'), seq: 21, waMessageId: 'wamid.quoting' };
      quoting.event = { ...quoting.event, raw: { message: { id: 'wamid.quoting', context: { id: 'wamid.earlier-3' } } }, ...(quoting.event.kind === 'message' ? { quoted: { waMessageId: 'wamid.earlier-3' } } : {}) };
      const inputs = [
        inputOf(),
        inputOf({ event: quoting, previous: earlier, related: earlier[3] }),
        inputOf({ event: null }),
        inputOf({ event: image, attachments: [{ record: makeAttachmentRecord({ waMediaId: 'img-2' }), content: randomBytes(20_000) }] }),
        inputOf({ event: image, attachments: [{ record: makeAttachmentRecord({ waMediaId: 'img-2' }), content: randomBytes(INLINE_BLOB_BYTES) }] }),
      ];
      const composed = await Promise.all(inputs.map((input) => relaying.composeRelay(input)));
      const blobs = new FileBlobStore(dir);
      for (const [i, input] of inputs.entries()) {
        const mail = buildRelayMail(input);
        const expected = await inline.compose(mail);
        expect(composed[i]!.messageId).toBe(mail.messageId);
        expect(composed[i]!.raw.equals(expected)).toBe(true);
        expect(composed[i]!.rawSha256).toBe(createHash('sha256').update(expected).digest('hex'));
        if (expected.length <= INLINE_BLOB_BYTES) {
          // Without data keys the row keeps the plain bytes, and no file is made.
          expect(composed[i]!.inline?.equals(expected)).toBe(true);
          expect(await blobs.has(composed[i]!.rawSha256)).toBe(false);
        } else {
          expect(composed[i]!.inline).toBeUndefined();
          expect((await blobs.get(composed[i]!.rawSha256)).equals(expected)).toBe(true);
        }
      }
      expect(composed.filter((c) => c.inline)).toHaveLength(4);
      const refused = await relaying.composeRelay(inputOf({ mailbox: 'solicitor@firm.test\r\nBcc: evil@x.test' })).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(BadInputError);
    } finally {
      await relaying.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('seals a small relayed mail for its row with the data keys, as the blob store seals a file, and keeps it plain once sealing is off', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'wab-composer-sealed-'));
    const blobKeys = { activeId: '0123456789abcdef', keys: [['0123456789abcdef', randomBytes(32)]] as Array<[string, Uint8Array]> };
    const sealing = new ThreadedComposer({ blobRoot: dir, blobKeys, sealBlobs: true });
    // Blob encryption switched off after it was on: the keys are there to open old blobs, new ones are plain.
    const plain = new ThreadedComposer({ blobRoot: dir, blobKeys, sealBlobs: false });
    try {
      const composed = await sealing.composeRelay(inputOf({ event: makeTextRecord('Privileged: the settlement figure') }));
      const kept = composed.inline!;
      expect(kept.includes(Buffer.from('settlement figure'))).toBe(false);
      expect(blobCipher(blobKeys).open(kept, composed.rawSha256).equals(composed.raw)).toBe(true);
      expect(await new FileBlobStore(dir).has(composed.rawSha256)).toBe(false);

      // Larger than Node's buffer pool hands out (4 KiB), so the mail's bytes have memory of their own.
      const image = makeMessageRecord({ type: 'image', media: { waMediaId: 'img-3', mimeType: 'image/jpeg' } });
      const unsealed = await plain.composeRelay(inputOf({ event: image, attachments: [{ record: makeAttachmentRecord({ waMediaId: 'img-3' }), content: randomBytes(10_000) }] }));
      expect(unsealed.raw.length).toBeGreaterThan(4096);
      expect(unsealed.inline?.equals(unsealed.raw)).toBe(true);
      expect(unsealed.inline?.buffer).not.toBe(unsealed.raw.buffer);
    } finally {
      await sealing.close();
      await plain.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses new mails once closed', async () => {
    const closing = new ThreadedComposer();
    const mail = mailOf();
    expect((await closing.compose(mail)).length).toBeGreaterThan(0);
    await closing.close();
    await expect(closing.compose(mail)).rejects.toThrow(/closed/);
  });
});

describe('ThreadedComposer in a process of its own', () => {
  it('never keeps the process alive once the rest of it is done', async () => {
    const composerUrl = new URL('./threaded-composer.ts', import.meta.url).href;
    const mail = {
      messageId: 'm.exit-check@wa.firm.test',
      date: '2026-01-02T03:04:05.000Z',
      from: { name: 'Client (WhatsApp)', address: 'wa@wa.firm.test' },
      to: [{ address: 'solicitor@firm.test' }],
      replyTo: { address: 'wa+token@wa.firm.test' },
      subject: 'WhatsApp chat',
      headers: [],
      references: [],
      text: 'hello',
      html: '<p>hello</p>',
      attachments: [],
    };
    const script = [
      `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))};`,
      'register();',
      `const { ThreadedComposer } = await import(${JSON.stringify(composerUrl)});`,
      `const mail = ${JSON.stringify(mail)};`,
      'const raw = await new ThreadedComposer().compose({ ...mail, date: new Date(mail.date) });',
      "process.stdout.write(raw.includes('Message-ID: <m.exit-check@wa.firm.test>') ? 'composed' : 'wrong bytes');",
    ].join('\n');
    const dir = await mkdtemp(path.join(tmpdir(), 'wab-composer-'));
    const file = path.join(dir, 'compose-once.mjs');
    await writeFile(file, script);
    const child = spawn(process.execPath, [file], { cwd: fileURLToPath(new URL('../../..', import.meta.url)), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const waited = await Promise.race([exited, new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 30_000))]);
    if (waited === 'still running') child.kill('SIGKILL');
    expect(waited, output).toBe(0);
    expect(output).toBe('composed');
    await rm(dir, { recursive: true, force: true });
  });
});
