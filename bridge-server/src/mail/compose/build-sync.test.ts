import fc from 'fast-check';
import MimeNode from 'nodemailer/lib/mime-node';
import { describe, expect, it } from 'vitest';
import type { OutgoingMail } from '../../core/mail.js';
import { buildRelayMail } from '../../core/relay-mail.js';
import { makeConversationRecord, makeTextRecord, testDomain, testTenant } from '../../core/test-records.js';
import { buildMimeSync } from './build-sync.js';
import { compileMail } from './composer.js';
import { mimeText } from './test-text.js';

/**
 * The one-pass writer must give exactly the bytes of nodemailer's streaming build() for the same
 * tree: the archive stores and hashes them, and a retried relay must send the same bytes.
 */

const streamed = (mail: OutgoingMail): Promise<Buffer> => compileMail(mail).build();
const inOnePass = (mail: OutgoingMail): Buffer => buildMimeSync(compileMail(mail));

// Text that exercises the encoders: line ends of every kind, whitespace before them and at the
// end, long lines with and without spaces, "=" and dots, non-ASCII of 2 to 4 bytes, control bytes.
const text = mimeText({
  samples: ['\n', '\r\n', '\r', ' ', '\t', ' \n', '\t\r\n', '=', '=3D', '.', '..\n.', 'é', '€', '😀', 'Ünïcødé ', '\u0000', '\u001b', '\u2028'],
  longLine: [70, 2000],
  words: [10, 400],
  pieces: 30,
});

const attachment = fc.record({
  fileName: fc.oneof(fc.constantFrom('scan.pdf', 'photo 1.jpg', 'Überweisung €.pdf', 'very-long-'.repeat(12) + '.txt', 'ﾌｧｲﾙ.png'), fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !/[\r\n]/.test(s))),
  contentType: fc.constantFrom('application/pdf', 'image/jpeg', 'text/plain', 'text/vcard', 'application/octet-stream', 'audio/ogg; codecs=opus'),
  content: fc.oneof(fc.uint8Array({ maxLength: 3000 }), fc.string({ maxLength: 500 }).map((s) => new TextEncoder().encode(s))).map((bytes) => Buffer.from(bytes)),
});

const mailArb: fc.Arbitrary<OutgoingMail> = fc
  .record({
    subject: fc.string({ unit: 'grapheme', maxLength: 120 }).filter((s) => !/[\r\n]/.test(s)),
    name: fc.string({ unit: 'grapheme', maxLength: 70 }).filter((s) => !/[\r\n]/.test(s)),
    text,
    html: text,
    attachments: fc.array(attachment, { maxLength: 3 }),
    references: fc.array(fc.stringMatching(/^[a-z0-9]{1,12}(\.[a-z0-9]{1,8})?$/).map((local) => `${local}@wa.firm.test`), { maxLength: 25 }),
    header: fc.string({ unit: 'grapheme', maxLength: 200 }).filter((s) => !/[\r\n]/.test(s)),
  })
  .map(({ subject, name, text: plain, html, attachments, references, header }) => ({
    from: { name, address: 'bridge@wa.firm.test' },
    to: [{ name: 'Firm inbox', address: 'inbox@firm.test' }],
    replyTo: { address: 'wa+abc@wa.firm.test' },
    subject,
    messageId: 'm1.abc@wa.firm.test',
    date: new Date(Date.UTC(2026, 10, 26, 9, 30)),
    ...(references.length > 0 ? { inReplyTo: references[references.length - 1] } : {}),
    references,
    headers: [
      { key: 'X-WhatsApp-Chat-Id', value: 'chat-1' },
      { key: 'X-Test-Note', value: header },
    ],
    text: plain,
    html,
    attachments,
  }));

describe('buildMimeSync', () => {
  it('writes the bytes nodemailer streams, for generated mails of every shape', async () => {
    await fc.assert(
      fc.asyncProperty(mailArb, async (mail) => {
        expect(inOnePass(mail).equals(await streamed(mail))).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('writes the bytes nodemailer streams for a relayed mail and a large attachment', async () => {
    const mail = buildRelayMail({
      tenant: testTenant,
      mailDomain: testDomain,
      mailbox: 'whatsapp@firm.example',
      replyAddress: `wa+token@${testDomain}`,
      conversation: makeConversationRecord(),
      event: makeTextRecord('Hello — the contract is signed.\nSee you on Friday.'),
      previous: [],
      attachments: [],
      archiveHash: 'ab'.repeat(32),
      timeZone: 'Europe/London',
    });
    const big: OutgoingMail = { ...mail, attachments: [{ fileName: 'bundle.zip', contentType: 'application/zip', content: Buffer.alloc(3 * 1024 * 1024 + 7, 0xa5) }] };
    for (const each of [mail, big]) expect(inOnePass(each).equals(await streamed(each))).toBe(true);
  });

  it('refuses content it cannot write in one pass instead of writing something else', () => {
    const node = new MimeNode('application/octet-stream');
    node.setContent({ path: '/etc/passwd' } as unknown as Buffer);
    expect(() => buildMimeSync(node)).toThrow(/string and Buffer content only/);
    const binaryQp = new MimeNode('application/octet-stream');
    binaryQp.setHeader('Content-Transfer-Encoding', 'quoted-printable');
    binaryQp.setContent(Buffer.from('a\rb\nc'));
    expect(() => buildMimeSync(binaryQp)).toThrow(/quoted-printable text only/);
  });
});
