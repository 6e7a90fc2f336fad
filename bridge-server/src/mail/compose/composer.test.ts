import crypto, { createHash } from 'node:crypto';
import { simpleParser, type AddressObject } from 'mailparser';
import { describe, expect, it, vi } from 'vitest';
import { BadInputError } from '../../core/errors.js';
import type { OutgoingMail } from '../../core/mail.js';
import { buildRelayMail, type RelayMailInput } from '../../core/relay-mail.js';
import {
  makeAttachmentRecord,
  makeConversationRecord,
  makeMessageRecord,
  makeTextRecord,
  testDomain,
  testTenant,
} from '../../core/test-records.js';
import MimeNode from 'nodemailer/lib/mime-node';
import { DeterministicComposer } from './composer.js';

const composer = new DeterministicComposer();

function relayInput(overrides: Partial<RelayMailInput> = {}): RelayMailInput {
  const conversation = overrides.conversation ?? makeConversationRecord();
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

const composeRelay = (overrides: Partial<RelayMailInput> = {}): Promise<Buffer> => composer.compose(buildRelayMail(relayInput(overrides)));

const headerBlock = (raw: Buffer): string => raw.subarray(0, raw.indexOf('\r\n\r\n')).toString('latin1');

/** Header field names of the top-level header block, in order (continuation lines skipped). */
const fieldNames = (raw: Buffer): string[] =>
  headerBlock(raw)
    .split('\r\n')
    .filter((line) => !/^[ \t]/.test(line))
    .map((line) => line.slice(0, line.indexOf(':')).toLowerCase());

const firstAddress = (value: AddressObject | AddressObject[] | undefined) => (Array.isArray(value) ? value[0] : value)?.value[0];

/**
 * RFC 2047 decoding for a header mailparser leaves encoded (it decodes only the fields it knows).
 * Whitespace between adjacent encoded words is dropped (RFC 2047 6.2); bytes are joined before
 * UTF-8 decoding, since one character may be split across words.
 */
function decodeWords(value: string): string {
  const joined = value.replace(/\?=\s+=\?/g, '?==?');
  return joined.replace(/(?:=\?UTF-8\?[QB]\?[^?]*\?=)+/gi, (run) => {
    const bytes = [...run.matchAll(/=\?UTF-8\?([QB])\?([^?]*)\?=/gi)].map(([, encoding, text = '']) =>
      encoding?.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64')
        : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1'),
    );
    return Buffer.concat(bytes).toString('utf8');
  });
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** 200 KB of bytes covering every octet value, deterministic. */
function binaryFixture(): Buffer {
  const chunks: Buffer[] = [];
  let block = Buffer.from('seed');
  for (let i = 0; i < 6400; i++) {
    block = createHash('sha256').update(block).digest();
    chunks.push(block);
  }
  return Buffer.concat(chunks);
}

describe('DeterministicComposer', () => {
  it('composes the same mail twice to identical bytes', async () => {
    const record = makeMessageRecord({ type: 'document', media: { waMediaId: 'doc-1', mimeType: 'application/pdf', fileName: 'Lease.pdf' } });
    const input = relayInput({ event: record, attachments: [{ record: makeAttachmentRecord({ waMediaId: 'doc-1', mimeType: 'application/pdf' }), content: binaryFixture() }] });
    const first = await composer.compose(buildRelayMail(input));
    const second = await new DeterministicComposer().compose(buildRelayMail(input));
    expect(second.equals(first)).toBe(true);
  });

  it('takes Message-ID and Date from the mail and adds no X-Mailer', async () => {
    const record = makeTextRecord('Hello', { timestamp: Date.parse('2024-01-31T14:45:02Z') });
    const mail = buildRelayMail(relayInput({ event: record }));
    const raw = await composer.compose(mail);
    const parsed = await simpleParser(raw);
    expect(parsed.messageId).toBe(`<${mail.messageId}>`);
    expect(headerBlock(raw)).toContain('\r\nDate: Wed, 31 Jan 2024 14:45:02 +0000\r\n');
    expect(fieldNames(raw)).not.toContain('x-mailer');
  });

  it('derives the multipart boundary from the mail, so different mails get different boundaries', async () => {
    const boundary = (raw: Buffer) => /boundary="([^"]+)"/.exec(raw.toString('latin1'))?.[1];
    const a = await composeRelay({ event: makeTextRecord('one') });
    const b = await composeRelay({ event: makeTextRecord('two') });
    expect(boundary(a)).toMatch(/^--_wab-[0-9a-f]{32}-Part_1$/);
    expect(boundary(a)).not.toBe(boundary(b));
  });

  it('writes CRLF line ends only', async () => {
    const raw = await composeRelay({ event: makeTextRecord('line one\nline two\rline three') });
    expect(raw.toString('latin1')).not.toMatch(/(?<!\r)\n|\r(?!\n)/);
  });

  it('RFC 2047-encodes non-ASCII names and subject, and they decode back', async () => {
    const conversation = makeConversationRecord({ clientName: 'Zoë Ñúñez-Øberg 王芳' });
    const raw = await composeRelay({ conversation, event: makeTextRecord('Olá') });
    expect([...Buffer.from(headerBlock(raw), 'latin1')].every((byte) => byte < 0x80)).toBe(true);
    expect(headerBlock(raw)).toMatch(/=\?UTF-8\?[QB]\?/i);
    const parsed = await simpleParser(raw);
    expect(parsed.subject).toBe(conversation.subject);
    expect(decodeWords(String(parsed.headers.get('thread-topic')))).toBe(conversation.subject);
    expect(firstAddress(parsed.from)?.name).toBe('Zoë Ñúñez-Øberg 王芳 (WhatsApp)');
    expect(parsed.text).toContain('Olá');
  });

  it('keeps the spelling of the X-WhatsApp headers and writes the threading headers', async () => {
    const raw = await composeRelay();
    const block = headerBlock(raw);
    expect(block).toContain('\r\nX-WhatsApp-Chat-Id: ');
    expect(block).toContain('\r\nThread-Index: ');
    expect(block).toMatch(/\r\nX-Archive-Hash:\s+sha256:(ab){32}\r\n/);
    const parsed = await simpleParser(raw);
    expect(parsed.inReplyTo).toMatch(/^<chat\.[a-z2-7]{26}@wa\.firm\.example>$/);
    expect(parsed.headers.get('auto-submitted')).toBe('auto-generated');
  });

  it('never lets a display name with CR/LF from WhatsApp create a header line', async () => {
    const conversation = makeConversationRecord({ clientName: 'Jane\r\nBcc: evil@x.test' });
    const raw = await composeRelay({ conversation });
    const names = fieldNames(raw);
    expect(names).not.toContain('bcc');
    expect(names).toEqual([
      'from', 'to', 'reply-to', 'in-reply-to', 'references', 'subject', 'message-id', 'date',
      'thread-topic', 'thread-index', 'x-whatsapp-chat-id', 'x-whatsapp-message-id', 'x-whatsapp-direction', 'x-whatsapp-from',
      'x-whatsapp-event', 'x-whatsapp-type', 'x-archive-hash', 'auto-submitted', 'x-auto-response-suppress', 'mime-version', 'content-type',
    ]);
    const parsed = await simpleParser(raw);
    expect(parsed.bcc).toBeUndefined();
    expect(parsed.headers.has('bcc')).toBe(false);
    expect(firstAddress(parsed.from)?.name).toBe('Jane Bcc: evil@x.test (WhatsApp)');
    expect(firstAddress(parsed.from)?.address).toMatch(/^wa\+/);
  });

  it('refuses raw CR/LF in any header value of a hand-built mail (defence in depth)', async () => {
    const mail = buildRelayMail(relayInput());
    const variants: OutgoingMail[] = [
      { ...mail, from: { ...mail.from, name: 'Jane\r\nBcc: evil@x.test' } },
      { ...mail, subject: 'Hi\nBcc: evil@x.test' },
      { ...mail, headers: [...mail.headers, { key: 'X-Note', value: 'a\rb' }] },
      { ...mail, references: [...mail.references, 'x@y\r\nBcc: evil@x.test'] },
      { ...mail, attachments: [{ fileName: 'a\r\n.pdf', contentType: 'application/pdf', content: Buffer.from('x') }] },
    ];
    for (const variant of variants) {
      const error = await composer.compose(variant).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BadInputError);
      expect((error as BadInputError).code).toBe('header_injection');
    }
  });

  it('refuses custom headers that would shadow the ones it writes, and malformed Message-IDs', async () => {
    const mail = buildRelayMail(relayInput());
    const shadow = await composer.compose({ ...mail, headers: [{ key: 'Bcc', value: 'evil@x.test' }] }).catch((e: unknown) => e);
    expect((shadow as BadInputError).code).toBe('header_reserved');
    const badId = await composer.compose({ ...mail, messageId: '<not an id>' }).catch((e: unknown) => e);
    expect((badId as BadInputError).code).toBe('message_id_invalid');
  });

  it('keeps attachment bytes intact', async () => {
    const bytes = binaryFixture();
    const record = makeMessageRecord({ type: 'image', media: { waMediaId: 'img-1', mimeType: 'image/jpeg' } });
    const raw = await composeRelay({ event: record, attachments: [{ record: makeAttachmentRecord({ waMediaId: 'img-1' }), content: bytes }] });
    const parsed = await simpleParser(raw);
    expect(parsed.attachments).toHaveLength(1);
    const [attachment] = parsed.attachments;
    expect(attachment?.contentType).toBe('image/jpeg');
    expect(attachment?.filename).toMatch(/^image-[a-z2-7]{8}\.jpg$/);
    expect(sha256(attachment?.content ?? Buffer.alloc(0))).toBe(sha256(bytes));
  });

  it('carries a non-ASCII document name and the contact cards as .vcf files', async () => {
    const document = makeMessageRecord({ type: 'document', media: { waMediaId: 'd', mimeType: 'application/pdf', fileName: 'Bescheid für Zoë.pdf' } });
    const withDocument = await simpleParser(
      await composeRelay({ event: document, attachments: [{ record: makeAttachmentRecord({ waMediaId: 'd', mimeType: 'application/pdf' }), content: Buffer.from('%PDF-1.7') }] }),
    );
    expect(withDocument.attachments[0]?.filename).toBe('Bescheid für Zoë.pdf');
    const contacts = makeMessageRecord({ type: 'contacts', contacts: [{ formattedName: 'John Roe', phones: [{ phone: '+44 7700 900456' }], emails: [], urls: [], addresses: [] }] });
    const withCard = await simpleParser(await composeRelay({ event: contacts }));
    expect(withCard.attachments[0]?.filename).toBe('John Roe.vcf');
    expect(withCard.attachments[0]?.contentType).toBe('text/vcard');
    expect(withCard.attachments[0]?.content.toString('utf8')).toContain('BEGIN:VCARD\r\nVERSION:3.0\r\n');
  });

  it('keeps <script> from a message escaped in the HTML part', async () => {
    const parsed = await simpleParser(await composeRelay({ event: makeTextRecord('<script>alert(1)</script>') }));
    expect(parsed.html).not.toBe(false);
    expect(String(parsed.html)).not.toMatch(/<script/i);
    expect(String(parsed.html)).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(parsed.text).toContain('<script>alert(1)</script>');
  });
});

describe("nodemailer's header-name spelling, remembered", () => {
  it('spells every name exactly as nodemailer does, the first time and when remembered', () => {
    const spell = (MimeNode.prototype as unknown as { _normalizeHeaderKey: ((key: unknown) => string) & { unremembered?: (key: unknown) => string } })._normalizeHeaderKey;
    expect(spell.unremembered).toBeTypeOf('function');
    const names = ['content-type', 'MIME-Version', 'x-whatsapp-message-id', 'X-SMTPAPI', 'dkim-signature', 'x-spf', 'content-features', 'Thread-Index', 'From: ceo@example.com (', ' x\r\nBcc', 'arc-seal', 'X-MD5'];
    for (const name of names) {
      const expected = spell.unremembered!.call(null, name);
      expect(spell.call(null, name)).toBe(expected);
      expect(spell.call(null, name)).toBe(expected);
    }
    expect(spell.call(null, 'mime-version')).toBe('MIME-Version');
    expect(spell.call(null, 'From: ceo@example.com (')).toBe('Fromceo@example.com(');
  });
});

describe('the base boundary, shared by every part', () => {
  it('draws nothing at random for a mail of several parts, and writes every part under the one base', async () => {
    const record = makeMessageRecord({ type: 'document', media: { waMediaId: 'doc-2', mimeType: 'application/pdf', fileName: 'Lease.pdf' } });
    const mail = buildRelayMail(relayInput({ event: record, attachments: [{ record: makeAttachmentRecord({ waMediaId: 'doc-2', mimeType: 'application/pdf' }), content: binaryFixture() }] }));
    // nodemailer calls crypto.randomBytes through the module object, which the spy stands in for.
    const draws = vi.spyOn(crypto, 'randomBytes');
    try {
      const raw = (await composer.compose(mail)).toString('latin1');
      expect(draws).not.toHaveBeenCalled();
      const boundaries = [...raw.matchAll(/boundary="([^"]+)"/g)].map((match) => match[1]);
      expect(boundaries).toHaveLength(2);
      const base = /^--_wab-([0-9a-f]{32})-Part_\d+$/.exec(boundaries[0]!)?.[1];
      expect(base).toBeDefined();
      for (const boundary of boundaries) expect(boundary).toMatch(new RegExp(`^--_wab-${base}-Part_\\d+$`));
    } finally {
      draws.mockRestore();
    }
  });
});
