import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { OutgoingMail } from '../../core/mail.js';
import { buildRelayMail, type RelayMailInput } from '../../core/relay-mail.js';
import { makeConversationRecord, makeTextRecord, testDomain, testTenant } from '../../core/test-records.js';
import { buildMimeSync } from './build-sync.js';
import { compileMail, DeterministicComposer } from './composer.js';
import { checkHeaderBlock } from './headers.js';
import { mimeText } from './test-text.js';
import { isAlternativeOnly } from './write-alternative.js';

/**
 * The composer writes a mail of a text and an HTML part without building nodemailer's tree. The
 * bytes must be the tree's exactly (build-sync.test.ts holds the tree's one-pass bytes to
 * nodemailer's own streaming): the archive hashes them and a retried relay sends them again.
 */

const composer = new DeterministicComposer();
const throughTree = (mail: OutgoingMail): Buffer => buildMimeSync(compileMail(mail));

/** The composer's bytes, or the reason it refused them. */
function composed(mail: OutgoingMail): Buffer | string {
  try {
    return composer.composeNow(mail);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** What the tree gives for the same mail, refused for the same reasons the composer refuses. */
function tree(mail: OutgoingMail): Buffer | string {
  try {
    const raw = throughTree(mail);
    checkHeaderBlock(raw);
    return raw;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

const sameBytes = (a: Buffer | string, b: Buffer | string): boolean => (typeof a === 'string' || typeof b === 'string' ? a === b : a.equals(b));

const line = (s: string): boolean => !/[\r\n]/.test(s);
// Text that moves the choice of transfer encoding: short ASCII lines (7bit), long lines, mostly
// Latin with some non-ASCII (quoted-printable), mostly non-Latin (base64), control bytes, lone CR/LF.
const body = mimeText({
  samples: ['\n', '\r\n', '\r', ' ', '\t', ' \n', '=', '.', '..\n.', 'é', '€', '😀', 'Ünïcødé ', 'Привет ', '你好', '\u0000', '\u001b', '\u2028'],
  longLine: [70, 300],
  words: [1, 40],
  pieces: 20,
});
const headerText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 120 }),
  fc.constantFrom('', ' ', 'WhatsApp · Jane Smith (+44 7700 900123) [WA k4jl64]', '"quoted" name, with comma', 'Smith, Jane <jane@x>', '=?UTF-8?Q?looks_encoded?=', 'محمد', 'a'.repeat(90)),
).filter(line);

const mailArb: fc.Arbitrary<OutgoingMail> = fc
  .record({
    subject: headerText,
    name: headerText,
    to: fc.constantFrom('inbox@firm.test', 'whatsapp@firm.example', 'post@fírm.test', 'ünï@firm.test'),
    text: body,
    html: body,
    references: fc.array(fc.stringMatching(/^[a-z0-9]{1,26}(\.[a-z0-9]{1,8})?$/).map((local) => `${local}@wa.firm.test`), { maxLength: 22 }),
    note: headerText,
    noteKey: fc.constantFrom('X-Test-Note', 'x-test-note', 'X-TEST-NOTE', 'Thread-Topic'),
  })
  .map(({ subject, name, to, text, html, references, note, noteKey }) => ({
    from: { name, address: 'wa+abc@wa.firm.test' },
    to: [{ address: to }],
    replyTo: { address: 'wa+abc@wa.firm.test' },
    subject,
    messageId: 'm1.abc@wa.firm.test',
    date: new Date(Date.UTC(2026, 10, 26, 9, 30)),
    ...(references.length > 0 ? { inReplyTo: references[references.length - 1] } : {}),
    references,
    headers: [
      { key: 'X-WhatsApp-Chat-Id', value: 'chat-1' },
      { key: noteKey, value: note },
      { key: 'Auto-Submitted', value: 'auto-generated' },
    ],
    text,
    html,
    attachments: [],
  }));

function relayInput(i: number, previous: number): RelayMailInput {
  const conversation = makeConversationRecord();
  return {
    tenant: testTenant,
    mailDomain: testDomain,
    mailbox: 'whatsapp@firm.example',
    replyAddress: `wa+${conversation.chatToken}.mac0@${testDomain}`,
    conversation,
    event: { ...makeTextRecord(`Message ${i} — the lease on 14 Acacia Avenue. Could you call me back?`), waMessageId: `wamid.${i}` },
    previous: Array.from({ length: previous }, (_, j) => ({ ...makeTextRecord(`m${j}`), waMessageId: `wamid.p${j}` })),
    attachments: [],
    archiveHash: 'ab'.repeat(32),
    timeZone: 'Europe/London',
  };
}

describe('the composer without a tree', () => {
  it('writes the bytes of nodemailer’s tree for generated mails, and refuses what the tree’s bytes would fail', () => {
    fc.assert(
      fc.property(mailArb, (mail) => {
        const direct = composed(mail);
        expect(sameBytes(direct, tree(mail))).toBe(true);
        // Again, when every header line is already known.
        expect(sameBytes(composed(mail), direct)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('writes relayed mails as the tree does, the first of a chat and one naming twenty earlier mails', () => {
    for (const previous of [0, 1, 20]) {
      const mail = buildRelayMail(relayInput(previous, previous));
      expect(composer.composeNow(mail).equals(throughTree(mail))).toBe(true);
    }
    const cover = buildRelayMail({ ...relayInput(0, 0), event: null });
    expect(composer.composeNow(cover).equals(throughTree(cover))).toBe(true);
  });

  it('keeps each mail’s own spelling of a header name when the same value comes back', () => {
    const base = buildRelayMail(relayInput(1, 1));
    const spelled = (key: string): OutgoingMail => ({ ...base, headers: [{ key, value: 'same value' }] });
    const first = composer.composeNow(spelled('X-Case-Test')).toString('latin1');
    const second = composer.composeNow(spelled('x-CASE-test')).toString('latin1');
    expect(first).toMatch(/^X-Case-Test: same value\r$/m);
    expect(second).toMatch(/^x-CASE-test: same value\r$/m);
    expect(second).not.toMatch(/^X-Case-Test:/m);
  });

  it('leaves a mail with an attachment, or without a text or an HTML part, to the tree', () => {
    const mail = buildRelayMail(relayInput(2, 2));
    expect(isAlternativeOnly({ text: 'a', html: '<p>a</p>', baseBoundary: 'b', boundaryPrefix: 'p' })).toBe(true);
    const attached: OutgoingMail = { ...mail, attachments: [{ fileName: 'a.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF-1.7') }] };
    for (const other of [attached, { ...mail, text: '' }, { ...mail, html: '' }]) expect(sameBytes(composed(other), tree(other))).toBe(true);
    expect(composer.composeNow(attached).toString('latin1')).toMatch(/^Content-Type: multipart\/mixed;/m);
  });
});
