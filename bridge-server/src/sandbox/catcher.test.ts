import { createHash } from 'node:crypto';
import net from 'node:net';
import nodemailer from 'nodemailer';
import { afterEach, describe, expect, it } from 'vitest';
import { startMailCatcher, type CaughtMail, type MailCatcher } from './catcher.js';

const running: MailCatcher[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((catcher) => catcher.stop()));
});

async function catcher(options: Parameters<typeof startMailCatcher>[0] = {}): Promise<MailCatcher> {
  const started = await startMailCatcher(options);
  running.push(started);
  return started;
}

function rawMail(subject: string, body: string): Buffer {
  return Buffer.from(
    [
      'From: WhatsApp bridge <bridge@wa.sandbox.test>',
      'To: whatsapp@firm.example',
      `Subject: ${subject}`,
      'Message-ID: <m.test@wa.sandbox.test>',
      'Date: Tue, 03 Mar 2026 10:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      body,
      '',
    ].join('\r\n'),
  );
}

/** Speaks SMTP by hand, without the SIZE parameter, and returns the reply to the final dot. */
async function sendWithoutDeclaringSize(port: number, message: Buffer): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  let buffered = '';
  const replies: string[] = [];
  const waiters: Array<(reply: string) => void> = [];
  socket.on('data', (data: Buffer) => {
    buffered += data.toString('latin1');
    let end: number;
    while ((end = buffered.indexOf('\r\n')) >= 0) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      // The last line of a multi-line reply has a space after the code (RFC 5321 4.2.1).
      if (/^\d{3} /.test(line)) {
        const waiter = waiters.shift();
        if (waiter) waiter(line);
        else replies.push(line);
      }
    }
  });
  const reply = () => new Promise<string>((resolve) => (replies.length > 0 ? resolve(replies.shift() as string) : waiters.push(resolve)));
  const command = async (line: string) => {
    socket.write(`${line}\r\n`);
    return reply();
  };
  expect(await reply()).toMatch(/^220 /);
  expect(await command('EHLO tester.local')).toMatch(/^250 /);
  expect(await command('MAIL FROM:<bridge@wa.sandbox.test>')).toMatch(/^250 /);
  expect(await command('RCPT TO:<whatsapp@firm.example>')).toMatch(/^250 /);
  expect(await command('DATA')).toMatch(/^354 /);
  socket.write(message);
  const final = await command('\r\n.');
  socket.end('QUIT\r\n');
  return final;
}

describe('mail catcher', () => {
  it('keeps a mail sent over SMTP byte for byte, with its envelope and hash, and tells listeners', async () => {
    const mailCatcher = await catcher();
    expect(mailCatcher.url).toBe(`smtp://127.0.0.1:${mailCatcher.port}`);
    const heard: CaughtMail[] = [];
    mailCatcher.onMail((mail) => heard.push(mail));
    const raw = rawMail('WhatsApp · Jane Smith (+44 7700 900123) [WA i5y2nb]', 'Hello from the client');

    const transport = nodemailer.createTransport({ url: mailCatcher.url });
    const info = await transport.sendMail({ envelope: { from: 'bridge@wa.sandbox.test', to: ['whatsapp@firm.example'] }, raw });
    transport.close();

    expect(info.response).toMatch(/^250 /);
    const [mail] = mailCatcher.mails();
    expect(mailCatcher.mails()).toHaveLength(1);
    expect(mail?.id).toBe(1);
    expect(mail?.envelope).toEqual({ from: 'bridge@wa.sandbox.test', to: ['whatsapp@firm.example'] });
    expect(mail?.raw.equals(raw)).toBe(true);
    expect(mail?.sha256).toBe(createHash('sha256').update(raw).digest('hex'));
    expect(mailCatcher.get(1)).toBe(mail);
    expect(heard).toEqual([mail]);
  });

  it('accepts SMTP credentials without checking them, as a firm gateway URL may carry them', async () => {
    const mailCatcher = await catcher();
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: mailCatcher.port, secure: false, auth: { user: 'relay', pass: 'anything' } });
    await transport.sendMail({ envelope: { from: 'bridge@wa.sandbox.test', to: ['whatsapp@firm.example'] }, raw: rawMail('With credentials', 'text') });
    transport.close();
    expect(mailCatcher.mails()).toHaveLength(1);
  });

  it('rejects a mail over the size limit with 552 and keeps nothing', async () => {
    const mailCatcher = await catcher({ maxMessageBytes: 10_000 });
    const heard: CaughtMail[] = [];
    mailCatcher.onMail((mail) => heard.push(mail));
    const transport = nodemailer.createTransport({ url: mailCatcher.url });
    const oversize = rawMail('Too big', 'x'.repeat(20_000));

    const failure = await transport.sendMail({ envelope: { from: 'bridge@wa.sandbox.test', to: ['whatsapp@firm.example'] }, raw: oversize }).then(
      () => undefined,
      (error: { responseCode?: number }) => error,
    );
    transport.close();

    expect(failure?.responseCode).toBe(552);
    expect(mailCatcher.mails()).toEqual([]);
    expect(heard).toEqual([]);
  });

  it('answers 552 after DATA to a client that did not declare the size, and keeps nothing', async () => {
    const mailCatcher = await catcher({ maxMessageBytes: 10_000 });
    const reply = await sendWithoutDeclaringSize(mailCatcher.port, rawMail('Too big', 'y'.repeat(20_000)));
    expect(reply).toMatch(/^552 /);
    expect(mailCatcher.mails()).toEqual([]);
  });

  it('keeps only the newest mails, oldest first, and stops telling a listener that unsubscribed', async () => {
    const mailCatcher = await catcher({ keep: 2 });
    const heard: number[] = [];
    const unsubscribe = mailCatcher.onMail((mail) => heard.push(mail.id));
    const transport = nodemailer.createTransport({ url: mailCatcher.url });
    const send = (n: number) => transport.sendMail({ envelope: { from: 'bridge@wa.sandbox.test', to: ['whatsapp@firm.example'] }, raw: rawMail(`Mail ${n}`, `body ${n}`) });
    await send(1);
    await send(2);
    unsubscribe();
    await send(3);
    transport.close();

    expect(mailCatcher.mails().map((mail) => mail.id)).toEqual([2, 3]);
    expect(mailCatcher.get(1)).toBeUndefined();
    expect(heard).toEqual([1, 2]);
  });

  describe('takeEarlier', () => {
    const envelope = { from: 'bridge@wa.sandbox.test', to: ['whatsapp@firm.example'] };
    const sha256 = (raw: Buffer) => createHash('sha256').update(raw).digest('hex');

    it('keeps mails from an earlier run ahead of the ones it catches, with the first ids and without telling listeners', async () => {
      const mailCatcher = await catcher();
      const heard: number[] = [];
      mailCatcher.onMail((mail) => heard.push(mail.id));
      const first = rawMail('Earlier 1', 'first');
      const second = rawMail('Earlier 2', 'second');
      const given = [
        { raw: first, receivedAt: 1_770_000_000_000, envelope },
        { raw: second, receivedAt: 1_770_000_001_000, envelope },
      ];

      const taken = mailCatcher.takeEarlier(given);
      given[0]!.envelope.to.push('someone@else.example');

      expect(taken.map((mail) => [mail.id, mail.receivedAt, mail.sha256])).toEqual([
        [1, 1_770_000_000_000, sha256(first)],
        [2, 1_770_000_001_000, sha256(second)],
      ]);
      expect(mailCatcher.get(1)?.raw.equals(first)).toBe(true);
      expect(mailCatcher.get(2)?.envelope).toEqual({ from: 'bridge@wa.sandbox.test', to: ['whatsapp@firm.example'] });
      expect(heard).toEqual([]);

      const transport = nodemailer.createTransport({ url: mailCatcher.url });
      await transport.sendMail({ envelope, raw: rawMail('After the restart', 'third') });
      transport.close();
      expect(mailCatcher.mails().map((mail) => mail.id)).toEqual([1, 2, 3]);
      expect(heard).toEqual([3]);
    });

    it('keeps only the newest of them, numbered from 1', async () => {
      const mailCatcher = await catcher({ keep: 2 });
      const raws = [1, 2, 3].map((n) => rawMail(`Earlier ${n}`, `body ${n}`));
      mailCatcher.takeEarlier(raws.map((raw, i) => ({ raw, receivedAt: 1_770_000_000_000 + i, envelope })));
      expect(mailCatcher.mails().map((mail) => [mail.id, mail.sha256])).toEqual([
        [1, sha256(raws[1]!)],
        [2, sha256(raws[2]!)],
      ]);
    });

    it('refuses once the catcher has caught or taken a mail, and keeps what it had', async () => {
      const caughtFirst = await catcher();
      const transport = nodemailer.createTransport({ url: caughtFirst.url });
      await transport.sendMail({ envelope, raw: rawMail('Live', 'caught before') });
      transport.close();
      expect(() => caughtFirst.takeEarlier([{ raw: rawMail('Late', 'too late'), receivedAt: 0, envelope }])).toThrow(/before the catcher has caught or taken any/);
      expect(caughtFirst.mails().map((mail) => mail.id)).toEqual([1]);

      const takenFirst = await catcher();
      takenFirst.takeEarlier([{ raw: rawMail('Earlier', 'once'), receivedAt: 0, envelope }]);
      expect(() => takenFirst.takeEarlier([{ raw: rawMail('Again', 'twice'), receivedAt: 0, envelope }])).toThrow();
      expect(takenFirst.mails()).toHaveLength(1);
    });
  });
});
