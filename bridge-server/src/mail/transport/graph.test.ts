import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { UpstreamError } from '../../core/errors.js';
import { buildRelayMail } from '../../core/relay-mail.js';
import { makeConversationRecord, makeTextRecord, testDomain, testTenant } from '../../core/test-records.js';
import { DeterministicComposer } from '../compose/composer.js';
import { fitMimeForGraph } from './graph-mime.js';
import { retryAfterMs } from './graph.js';

const bridgeMailbox = 'wa-bridge@firm.example';

async function relayMail(name = 'Zoë Ångström-Øster, a client with a rather long name that folds'): Promise<Buffer> {
  const conversation = makeConversationRecord({ clientName: name });
  return new DeterministicComposer().compose(
    buildRelayMail({
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
    }),
  );
}

const lines = (raw: Buffer) => raw.toString('latin1').split('\r\n');

describe('fitting a composed mail for Graph sendMail', () => {
  it('puts the sending mailbox into From and leaves every other byte as composed', async () => {
    const raw = await relayMail();
    const fitted = fitMimeForGraph(raw, bridgeMailbox, ['whatsapp@firm.example']);

    const before = await simpleParser(raw);
    const after = await simpleParser(fitted);
    expect(after.from?.value).toEqual([{ name: before.from!.value[0]!.name, address: bridgeMailbox }]);
    expect(before.from?.value[0]?.address).toMatch(/^wa\+/);
    expect(after.replyTo?.value[0]?.address).toBe(before.replyTo?.value[0]?.address);
    for (const name of ['message-id', 'in-reply-to', 'references', 'thread-index', 'thread-topic', 'x-whatsapp-chat-id', 'x-whatsapp-message-id', 'x-archive-hash', 'date', 'subject']) {
      expect(after.headers.get(name), name).toEqual(before.headers.get(name));
    }
    // Byte for byte: only the From field's lines differ.
    const changed = lines(fitted).filter((line, i) => line !== lines(raw)[i]);
    expect(changed).toEqual([expect.stringContaining(`<${bridgeMailbox}>`)]);
    expect(lines(fitted).length).toBe(lines(raw).length);
    const body = (b: Buffer) => b.subarray(b.indexOf('\r\n\r\n'));
    expect(body(fitted).equals(body(raw))).toBe(true);
  });

  it('returns the very same bytes when From is already the sending mailbox', async () => {
    const raw = Buffer.from(`From: Bridge <${bridgeMailbox.toUpperCase()}>\r\nTo: whatsapp@firm.example\r\nSubject: x\r\n\r\nbody\r\n`);
    expect(fitMimeForGraph(raw, bridgeMailbox, ['whatsapp@firm.example'])).toBe(raw);
  });

  it('handles a bare From address', () => {
    const raw = Buffer.from('From: someone@else.example\r\nTo: a@firm.example\r\n\r\nbody\r\n');
    expect(fitMimeForGraph(raw, bridgeMailbox, ['a@firm.example']).toString()).toBe(`From: <${bridgeMailbox}>\r\nTo: a@firm.example\r\n\r\nbody\r\n`);
  });

  it('refuses, permanently, a mail whose envelope recipient is not in To, Cc or Bcc', async () => {
    const raw = await relayMail('Jane');
    const error = (() => {
      try {
        fitMimeForGraph(raw, bridgeMailbox, ['whatsapp@firm.example', 'journal@firm.example']);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).retry).toBe('permanent');
    expect((error as UpstreamError).message).toContain('only in its envelope');
  });

  it('refuses a mail without From', () => {
    expect(() => fitMimeForGraph(Buffer.from('To: a@firm.example\r\n\r\nx'), bridgeMailbox, [])).toThrow(/no From field/);
  });
});

describe('reading Retry-After', () => {
  it('takes seconds or an HTTP date, and ignores anything else', () => {
    const now = Date.parse('2026-11-25T12:00:00Z');
    expect(retryAfterMs('7', now)).toBe(7000);
    expect(retryAfterMs('Wed, 25 Nov 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Wed, 25 Nov 2026 11:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});
