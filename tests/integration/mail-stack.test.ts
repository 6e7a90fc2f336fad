import { randomUUID } from 'node:crypto';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchAll, parseThreadResponse, threadReferences, waitForCount, type StoredMail } from '../support/imap.js';
import { startMailStack, type MailStack, type MailUser } from '../support/mail-stack.js';

const SENDER = '"Jane Client (WhatsApp)" <wa.447700900123@wa.firm.test>';
const SUBJECT = 'WhatsApp: Jane Client';

interface ThreadedMail {
  messageId: string;
  inReplyTo?: string;
  references?: string[];
}

function threeMailThread(): ThreadedMail[] {
  const run = randomUUID();
  const [first, second, third] = ['a', 'b', 'c'].map((part) => `<${run}.${part}@wa.firm.test>`) as [string, string, string];
  return [
    { messageId: first },
    { messageId: second, inReplyTo: first, references: [first] },
    { messageId: third, inReplyTo: second, references: [first, second] },
  ];
}

function send(stack: MailStack, mail: ThreadedMail, text: string) {
  // A fresh transport per send: no pooled connection may outlive a stopSmtp().
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: stack.smtpPort,
    secure: false,
    ignoreTLS: true,
    connectionTimeout: 5_000,
  });
  const subject = mail.inReplyTo === undefined ? SUBJECT : `Re: ${SUBJECT}`;
  return transport.sendMail({ from: SENDER, to: stack.mailbox, subject, text, ...mail });
}

function sortedUids(mails: StoredMail[]): number[] {
  return mails.map((mail) => mail.uid).sort((a, b) => a - b);
}

describe('private mail stack (Postfix + Dovecot on loopback)', () => {
  let stack: MailStack;

  beforeAll(async () => {
    stack = await startMailStack();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it.each<MailUser>(['solicitor', 'journal'])('starts with an empty %s mailbox', async (user) => {
    expect(await fetchAll(stack, user)).toEqual([]);
    expect(await threadReferences(stack, user)).toEqual([]);
  });

  it('delivers a threaded conversation to the solicitor and journals a copy of each message', async () => {
    const thread = threeMailThread();
    for (const [index, mail] of thread.entries()) {
      const info = await send(stack, mail, `message ${index + 1}`);
      expect(info.accepted).toEqual([stack.mailbox]);
    }

    for (const user of ['solicitor', 'journal'] as const) {
      const stored = await waitForCount(stack, user, 3, 10_000);
      expect(stored.map((mail) => mail.messageId).sort()).toEqual(thread.map((mail) => mail.messageId).sort());
      const last = stored.find((mail) => mail.messageId === thread[2]?.messageId);
      expect(last?.inReplyTo).toBe(thread[1]?.messageId);
      expect(last?.source.toString('utf8')).toMatch(/^References: <[^>]+\.a@wa\.firm\.test>\s+<[^>]+\.b@wa\.firm\.test>/m);

      const threads = await threadReferences(stack, user);
      expect(threads).toHaveLength(1);
      expect([...(threads[0] ?? [])].sort((a, b) => a - b)).toEqual(sortedUids(stored));
    }
  });

  it('refuses connections while SMTP is stopped and accepts mail again on the same port', async () => {
    const before = (await fetchAll(stack, 'solicitor')).length;
    const port = stack.smtpPort;

    await stack.stopSmtp();
    await expect(send(stack, { messageId: `<${randomUUID()}@wa.firm.test>` }, 'while down')).rejects.toMatchObject({
      code: 'ESOCKET',
      message: expect.stringContaining('ECONNREFUSED'),
    });
    // IMAP is Dovecot's job, so the mailboxes stay readable while SMTP is down.
    expect(await fetchAll(stack, 'solicitor')).toHaveLength(before);

    await stack.startSmtp();
    expect(stack.smtpPort).toBe(port);
    const info = await send(stack, { messageId: `<${randomUUID()}@wa.firm.test>` }, 'back up');
    expect(info.accepted).toEqual([stack.mailbox]);
    await waitForCount(stack, 'solicitor', before + 1, 10_000);
    await waitForCount(stack, 'journal', before + 1, 10_000);
  });

  it('rejects recipients outside firm.test so no test mail can leave the machine', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: stack.smtpPort, secure: false, ignoreTLS: true });
    await expect(
      transport.sendMail({ from: SENDER, to: 'someone@example.com', subject: 'outbound', text: 'must not leave' }),
    ).rejects.toMatchObject({ responseCode: 550 });
  });
});

describe('parseThreadResponse', () => {
  it('flattens nested branches into the thread that contains them', () => {
    expect(parseThreadResponse('(1 2 (3)(4 5))')).toEqual([[1, 2, 3, 4, 5]]);
  });

  it('returns one entry per top-level thread and none for an empty response', () => {
    expect(parseThreadResponse('(2)(3 6 (4 23)(44 7 96))')).toEqual([[2], [3, 6, 4, 23, 44, 7, 96]]);
    expect(parseThreadResponse('')).toEqual([]);
  });

  it('rejects unbalanced or foreign input', () => {
    expect(() => parseThreadResponse('(1 2')).toThrow(/unbalanced/);
    expect(() => parseThreadResponse('1 2)')).toThrow();
    expect(() => parseThreadResponse('(1 x)')).toThrow(/unexpected "x"/);
  });
});
