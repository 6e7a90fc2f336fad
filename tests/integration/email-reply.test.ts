import { randomBytes } from 'node:crypto';
import nodemailer from 'nodemailer';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../bridge-server/src/ops/logger.js';
import { getOutbound } from '../../bridge-server/src/store/outbound.js';
import { useBridgeOnMailStack, waitFor, type MailWorld } from '../support/bridge.js';
import { fetchAll, threadReferences, waitForCount } from '../support/imap.js';
import { parseAll, type ReadMail } from '../support/mail-assert.js';

const solicitor = { name: 'Tom Baker', address: 'tom.baker@firm.test' };

/** An Outlook on the web reply: new text, a signature and disclaimer, then the quoted original. */
function outlookReply(newText: string, original: ReadMail): { html: string; text: string } {
  const quotedText = original.parsed.text ?? '';
  const signature = ['Kind regards,', 'Tom Baker', 'Partner | Smith & Co LLP', '+44 20 7946 0000'];
  const disclaimer = 'This email is confidential and may be legally privileged. If you are not the intended recipient, please tell us and delete it.';
  const html = [
    '<html><body><div dir="ltr">',
    `<div style="font-family:Aptos">${newText}</div>`,
    '<div><br></div>',
    `<div id="Signature"><p>${signature.join('<br>')}</p><p style="font-size:8pt">${disclaimer}</p></div>`,
    '<div id="appendonsend"></div>',
    '<hr style="display:inline-block;width:98%" tabindex="-1">',
    `<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif"><b>From:</b> ${original.parsed.from?.text}<br><b>Sent:</b> Monday, 2 November 2026 09:01<br><b>To:</b> solicitor@firm.test<br><b>Subject:</b> ${original.parsed.subject}</font><div>&nbsp;</div></div>`,
    `<div>${String(original.parsed.html ?? '')}</div>`,
    '</div></body></html>',
  ].join('\n');
  const text = [newText, '', ...signature, '', disclaimer, '', '________________________________', `From: ${original.parsed.from?.text}`, 'Sent: Monday, 2 November 2026 09:01', 'To: solicitor@firm.test', `Subject: ${original.parsed.subject}`, '', quotedText].join('\r\n');
  return { html, text };
}

/** A client's WhatsApp message, once the bridge has mirrored it into the solicitor's mailbox. */
async function mirroredClientMessage(env: MailWorld, from: string, body: string, at = new Date()): Promise<ReadMail> {
  const envelope = env.world.simulator.inboundMessage({ from, name: 'Jane Smith', type: 'text', body, timestamp: at });
  const waMessageId = (envelope.entry[0]!.changes[0]!.value.messages as Array<{ id: string }>)[0]!.id;
  expect((await env.world.simulator.postWebhook(envelope)).status).toBe(200);
  let mail: ReadMail | undefined;
  await waitFor(
    async () => {
      mail = (await parseAll(await fetchAll(env.stack, 'solicitor'))).find((m) => m.header('x-whatsapp-message-id') === waMessageId);
      return mail !== undefined;
    },
    20_000,
    () => 'the client message was not mirrored',
  );
  return mail!;
}

describe('a solicitor replies to the mirrored mail', () => {
  // The bridge's log lines, to see what it says about each mail it does not relay.
  const logLines: Array<Record<string, unknown>> = [];
  const logger = createLogger('info', { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) });
  const env = useBridgeOnMailStack(
    { WA_BRIDGE_REPLY_SMTP_PORT: '0', WA_BRIDGE_REPLY_SMTP_HOST: '127.0.0.1', WA_BRIDGE_ALLOWED_SENDERS: '@firm.test', WA_BRIDGE_TEMPLATES: 'case_update:en_GB' },
    { logger },
  );

  const intake = () =>
    nodemailer.createTransport({ host: '127.0.0.1', port: env.world.bridge.replyIntakePort!, secure: false, ignoreTLS: true });

  const clientWrites = (from: string, body: string, at = new Date()) => mirroredClientMessage(env, from, body, at);

  async function replyTo(original: ReadMail, options: { from?: typeof solicitor; text: string; to?: string; headers?: Record<string, string>; attachments?: Array<{ filename: string; content: Buffer; contentType: string }> }) {
    const body = outlookReply(options.text, original);
    return intake().sendMail({
      from: options.from ?? solicitor,
      to: options.to ?? original.parsed.replyTo!.value[0]!.address!,
      subject: `RE: ${original.parsed.subject}`,
      inReplyTo: original.parsed.messageId!,
      references: [original.parsed.messageId!],
      html: body.html,
      text: body.text,
      ...(options.headers ? { headers: options.headers } : {}),
      ...(options.attachments ? { attachments: options.attachments } : {}),
    });
  }

  it('sends exactly the new text and the PDF to the client, and the reply joins the thread', async () => {
    const original = await clientWrites('447700900601', 'Did the landlord sign?');
    const pdf = randomBytes(25_000);
    const sentBefore = env.world.simulator.sent.length;
    await replyTo(original, { text: 'Yes, he signed this morning. The signed copy is attached.', attachments: [{ filename: 'Signed lease.pdf', content: pdf, contentType: 'application/pdf' }] });
    await waitFor(() => env.world.simulator.sent.length > sentBefore, 20_000, () => 'nothing sent to WhatsApp');
    const sent = env.world.simulator.sent.at(-1)!;
    expect(sent.type).toBe('document');
    const document = (sent.body as { document: { id: string; caption: string; filename: string } }).document;
    expect(document.caption).toBe('Yes, he signed this morning. The signed copy is attached.');
    expect(document.filename).toBe('Signed lease.pdf');
    expect(env.world.simulator.mediaById(document.id)?.bytes.equals(pdf)).toBe(true);
    // Quoting: the reply answers the mirrored message, so WhatsApp shows it as a reply to it.
    expect((sent.body as { context?: { message_id: string } }).context?.message_id).toBe(original.header('x-whatsapp-message-id'));

    // The reply, mirrored from WhatsApp, lands in the same IMAP thread as the client's message.
    const mails = await waitForCount(env.stack, 'solicitor', 3, 20_000);
    const parsed = await parseAll(mails);
    const outbound = parsed.find((m) => m.header('x-whatsapp-message-id') === sent.waMessageId)!;
    expect(outbound.header('x-whatsapp-direction')).toBe('outbound');
    expect(outbound.parsed.from?.value[0]?.name).toBe('Tom Baker via WhatsApp');
    const threads = await threadReferences(env.stack, 'solicitor');
    const chatThread = threads.find((t) => t.includes(original.uid))!;
    expect(chatThread).toContain(outbound.uid);

    // Delivered arrives after read: the stored status stays read.
    for (const status of ['read', 'delivered'] as const) {
      expect((await env.world.simulator.postWebhook(env.world.simulator.statusUpdate({ id: sent.waMessageId, status, recipientId: '447700900601' }))).status).toBe(200);
    }
    const row = await env.world.bridge.store.db.selectFrom('outbound_parts').selectAll().where('wa_message_id', '=', sent.waMessageId).executeTakeFirstOrThrow();
    expect(row.status).toBe('read');
    expect((await getOutbound(env.world.bridge.store.db, row.command_id))?.command.author).toEqual(solicitor);
  });

  it('rejects a sender outside the firm, a forged token and a token for another chat, and ignores an auto-reply', async () => {
    const original = await clientWrites('447700900602', 'Any news?');
    const other = await clientWrites('447700900603', 'Hello from another client');
    const sentBefore = env.world.simulator.sent.length;
    const address = original.parsed.replyTo!.value[0]!.address!;
    const [, token] = /^wa\+([^@]+)@/.exec(address)!;
    const otherToken = /^wa\+([^.]+)\./.exec(other.parsed.replyTo!.value[0]!.address!)![1]!;
    const forged = address.replace(/\.[a-z2-7]{16}@/, '.aaaaaaaaaaaaaaaa@');
    const wrongChat = address.replace(token!.split('.')[0]!, otherToken);

    await expect(replyTo(original, { from: { name: 'Mallory', address: 'mallory@outside.test' }, text: 'send me the file' })).rejects.toMatchObject({ responseCode: 550 });
    await expect(replyTo(original, { text: 'forged', to: forged })).rejects.toMatchObject({ responseCode: 550 });
    await expect(replyTo(original, { text: 'wrong chat', to: wrongChat })).rejects.toMatchObject({ responseCode: 550 });
    const auto = await replyTo(original, { text: 'I am out of the office until Monday.', headers: { 'Auto-Submitted': 'auto-replied' } });
    expect(auto.response).toMatch(/not relayed/);

    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(env.world.simulator.sent.length).toBe(sentBefore);
  });

  // Each mail below is otherwise a reply the bridge would relay: from the firm, to the chat's reply
  // address, with text of its own. Only the bounce, report, bulk or loop signal keeps it back.
  const dsnId = `dsn-${randomBytes(6).toString('hex')}@firm.test`;
  const dsn = (to: string, subject: string) =>
    [
      'From: Mail Delivery System <postmaster@firm.test>',
      `To: ${to}`,
      `Subject: Undelivered Mail Returned to Sender: ${subject}`,
      `Message-ID: <${dsnId}>`,
      'Auto-Submitted: no',
      'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="dsn-boundary"',
      '',
      '--dsn-boundary',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Your message could not be delivered to one or more recipients.',
      '',
      '--dsn-boundary',
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; mail.firm.test',
      '',
      'Final-Recipient: rfc822; someone@outside.test',
      'Action: failed',
      'Status: 5.1.1',
      '',
      '--dsn-boundary--',
      '',
    ].join('\r\n');
  const notRelayed: Array<{ name: string; reason: string; mail: { envelopeFrom?: string; headers?: Record<string, string>; raw?: boolean } }> = [
    { name: 'a bounce (MAIL FROM:<>)', reason: 'a bounce (empty envelope sender)', mail: { envelopeFrom: '' } },
    { name: 'a delivery status report (multipart/report)', reason: 'a delivery or read report', mail: { raw: true } },
    { name: 'Precedence: bulk', reason: 'an automatic mail (Precedence: bulk)', mail: { headers: { Precedence: 'bulk' } } },
    { name: 'Precedence: junk', reason: 'an automatic mail (Precedence: junk)', mail: { headers: { Precedence: 'junk' } } },
    { name: 'Precedence: list', reason: 'an automatic mail (Precedence: list)', mail: { headers: { Precedence: 'list' } } },
    { name: 'X-Autoreply', reason: 'an automatic reply (out of office)', mail: { headers: { 'X-Autoreply': 'yes' } } },
    { name: "the bridge's own X-WhatsApp-Message-ID", reason: "one of the bridge's own mails coming back", mail: { headers: { 'X-WhatsApp-Message-ID': 'wamid.HBgLNDQ3NzAwOTAwNjA1FQIAEhggQTFCMkMzRDRFNUY2' } } },
    { name: "the bridge's own X-WhatsApp-Event", reason: "one of the bridge's own mails coming back", mail: { headers: { 'X-WhatsApp-Event': 'reply-failed' } } },
  ];
  let loopChat: Promise<ReadMail> | undefined;

  it.each(notRelayed)('does not relay $name, sends nothing and logs why', async ({ reason, mail }) => {
    const original = await (loopChat ??= clientWrites('447700900605', 'Please confirm the date'));
    const to = original.parsed.replyTo!.value[0]!.address!;
    const sentBefore = env.world.simulator.sent.length;
    const info = mail.raw
      ? await intake().sendMail({ envelope: { from: 'postmaster@firm.test', to: [to] }, raw: dsn(to, original.parsed.subject ?? '') })
      : await (async () => {
          const body = outlookReply('Yes, the 14th is confirmed.', original);
          return intake().sendMail({
            ...(mail.envelopeFrom !== undefined ? { envelope: { from: mail.envelopeFrom, to: [to] } } : {}),
            from: solicitor,
            to,
            subject: `RE: ${original.parsed.subject}`,
            inReplyTo: original.parsed.messageId!,
            html: body.html,
            text: body.text,
            ...(mail.headers ? { headers: mail.headers } : {}),
          });
        })();
    // Accepted (a bounce of a bounce would start a loop), with the reason in the SMTP answer and the log.
    expect(info.response).toMatch(/^250 /);
    expect(info.response).toContain(`not relayed: ${reason}`);
    // nodemailer reports its own id for a raw message; the DSN's is the one in its header.
    const mailMessageId = mail.raw ? dsnId : info.messageId.replace(/^<|>$/g, '');
    const line = logLines.find((l) => l.msg === 'email reply' && l.mailMessageId === mailMessageId);
    expect(line).toMatchObject({ component: 'reply', outcome: 'ignored', reason });
    // Nothing stored to send, and nothing sent.
    expect(await env.world.bridge.store.db.selectFrom('outbound_commands').select('id').where('source_ref', '=', mailMessageId).execute()).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(env.world.simulator.sent.length).toBe(sentBefore);
  });

  it('relays the same reply when it carries none of those signals (Auto-Submitted: no)', async () => {
    const original = await (loopChat ??= clientWrites('447700900605', 'Please confirm the date'));
    const sentBefore = env.world.simulator.sent.length;
    const info = await replyTo(original, { text: 'Yes, the 14th is confirmed.', headers: { 'Auto-Submitted': 'no', Precedence: 'first-class' } });
    expect(info.response).toMatch(/reply accepted/);
    await waitFor(() => env.world.simulator.sent.length > sentBefore, 20_000, () => 'nothing sent to WhatsApp');
    expect(env.world.simulator.sent.at(-1)?.body).toMatchObject({ type: 'text', text: { body: 'Yes, the 14th is confirmed.' } });
  });

  it('refuses a reply outside the 24-hour window and tells the solicitor which template to use', async () => {
    const original = await clientWrites('447700900604', 'Old question', new Date(Date.now() - 30 * 3600_000));
    const sentBefore = env.world.simulator.sent.length;
    const info = await replyTo(original, { text: 'Sorry for the slow answer.' });
    expect(info.response).toMatch(/refused/);
    await waitFor(
      async () => (await parseAll(await fetchAll(env.stack, 'solicitor'))).some((m) => m.header('x-whatsapp-event') === 'reply-failed'),
      20_000,
      () => 'no notice',
    );
    const notice = (await parseAll(await fetchAll(env.stack, 'solicitor'))).find((m) => m.header('x-whatsapp-event') === 'reply-failed')!;
    expect(notice.parsed.text).toContain('case_update (en_GB)');
    expect(notice.parsed.subject).toBe(original.parsed.subject);
    expect(env.world.simulator.sent.length).toBe(sentBefore);
  });
});

describe('a solicitor replies, and the firm delivers the reply into a mailbox the bridge reads over IMAP', () => {
  const env = useBridgeOnMailStack((stack) => ({
    WA_BRIDGE_REPLY_IMAP_URL: `imap://replies:${stack.password}@127.0.0.1:${stack.imapPort}/INBOX`,
    // Ten minutes: only IDLE can bring the reply in within the test.
    WA_BRIDGE_REPLY_IMAP_POLL_MS: '600000',
    WA_BRIDGE_ALLOWED_SENDERS: '@firm.test',
  }));

  const clientWrites = (from: string, body: string) => mirroredClientMessage(env, from, body);

  /**
   * The solicitor's reply, as the firm's mail system delivers it: it rewrites the reply domain into
   * the bridge mailbox, so the header keeps the reply address and the envelope goes to
   * replies@firm.test.
   */
  async function replyArrives(original: ReadMail, text: string): Promise<string> {
    const body = outlookReply(text, original);
    const info = await nodemailer.createTransport({ host: '127.0.0.1', port: env.stack.smtpPort, secure: false, ignoreTLS: true }).sendMail({
      envelope: { from: solicitor.address, to: ['replies@firm.test'] },
      from: solicitor,
      to: original.parsed.replyTo!.value[0]!.address!,
      subject: `RE: ${original.parsed.subject}`,
      inReplyTo: original.parsed.messageId!,
      html: body.html,
      text: body.text,
    });
    return info.messageId.replace(/^<|>$/g, '');
  }

  const textsSent = () => env.world.simulator.sent.map((m) => (m.body as { text?: { body?: string } }).text?.body);

  it('reads the reply as IDLE announces it, sends the new text, and does not read it twice', async () => {
    const original = await clientWrites('447700900701', 'Is Friday still on?');
    await waitFor(() => env.world.bridge.replyPoller!.isIdling(), 20_000, () => 'the bridge is not idling on the reply mailbox');
    const sentBefore = env.world.simulator.sent.length;
    await replyArrives(original, 'Yes, Friday at 3pm.');
    // Nobody asks the bridge to read the mailbox, and its next poll is ten minutes away.
    await waitFor(() => env.world.simulator.sent.length > sentBefore, 15_000, () => 'nothing sent to WhatsApp');
    expect(env.world.simulator.sent.at(-1)?.body).toMatchObject({ type: 'text', text: { body: 'Yes, Friday at 3pm.' } });
    expect(await env.world.bridge.replyPoller!.pollNow()).toBe(0);
  });

  it('idles again after the server drops the IDLE connection, and reads the next reply as it arrives, once', async () => {
    const poller = env.world.bridge.replyPoller!;
    const original = await clientWrites('447700900702', 'Can we move the meeting?');
    await waitFor(() => poller.isIdling(), 20_000, () => 'the bridge is not idling on the reply mailbox');
    await replyArrives(original, 'Yes, Thursday suits me.');
    await waitFor(() => textsSent().includes('Yes, Thursday suits me.'), 15_000, () => 'the first reply was not sent to WhatsApp');
    // Lets the read that relayed it finish: it marks the mail read last, and a read cut off before
    // that would leave the mail for the next one.
    await poller.pollNow();

    // Dovecot drops every connection of the bridge mailbox, as a restart of the mail server would.
    const dropped = await env.stack.imapConnections('replies');
    expect(dropped.length).toBeGreaterThan(0);
    await env.stack.kickImap('replies');
    await waitFor(() => !poller.isIdling(), 5_000, () => 'the bridge still thinks it idles on a dropped connection');
    // The first wait before reconnecting is one second.
    await waitFor(() => poller.isIdling(), 10_000, () => 'the bridge did not idle on the reply mailbox again');
    const connections = await env.stack.imapConnections('replies');
    expect(connections.length).toBeGreaterThan(0);
    expect(connections.filter((pid) => dropped.includes(pid))).toEqual([]);
    // The read on reconnecting (for mail that came while nobody watched) finds the first reply
    // already read: joining or repeating it leaves nothing to read, and nothing was sent again.
    expect(await poller.pollNow()).toBe(0);
    expect(textsSent().filter((text) => text === 'Yes, Thursday suits me.')).toHaveLength(1);

    const sentBefore = env.world.simulator.sent.length;
    const mailMessageId = await replyArrives(original, 'Or Friday morning, if that is easier.');
    // Only the new IDLE connection can bring it in: the next poll is ten minutes away.
    await waitFor(() => env.world.simulator.sent.length > sentBefore, 10_000, () => 'the reply after the reconnect was not sent to WhatsApp');
    expect(env.world.simulator.sent.at(-1)?.body).toMatchObject({ type: 'text', text: { body: 'Or Friday morning, if that is easier.' } });
    // Once: no second read relays it again, and it was stored to send once.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await poller.pollNow()).toBe(0);
    expect(env.world.simulator.sent.length).toBe(sentBefore + 1);
    expect(await env.world.bridge.store.db.selectFrom('outbound_commands').select('id').where('source_ref', '=', mailMessageId).execute()).toHaveLength(1);
    expect(textsSent().filter((text) => text === 'Yes, Thursday suits me.')).toHaveLength(1);
  });
});
