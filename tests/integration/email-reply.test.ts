import { randomBytes } from 'node:crypto';
import nodemailer from 'nodemailer';
import { describe, expect, it } from 'vitest';
import { getOutbound } from '../../bridge-server/src/store/outbound.js';
import { useBridgeOnMailStack, waitFor } from '../support/bridge.js';
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

describe('a solicitor replies to the mirrored mail', () => {
  const env = useBridgeOnMailStack({ WA_BRIDGE_REPLY_SMTP_PORT: '0', WA_BRIDGE_REPLY_SMTP_HOST: '127.0.0.1', WA_BRIDGE_ALLOWED_SENDERS: '@firm.test', WA_BRIDGE_TEMPLATES: 'case_update:en_GB' });

  const intake = () =>
    nodemailer.createTransport({ host: '127.0.0.1', port: env.world.bridge.replyIntakePort!, secure: false, ignoreTLS: true });

  async function clientWrites(from: string, body: string, at = new Date()): Promise<ReadMail> {
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
    WA_BRIDGE_REPLY_IMAP_POLL_MS: '60000',
    WA_BRIDGE_ALLOWED_SENDERS: '@firm.test',
  }));

  it('reads the reply from the mailbox, sends the new text, and does not read it twice', async () => {
    const envelope = env.world.simulator.inboundMessage({ from: '447700900701', name: 'Jane Smith', type: 'text', body: 'Is Friday still on?' });
    expect((await env.world.simulator.postWebhook(envelope)).status).toBe(200);
    const mails = await waitForCount(env.stack, 'solicitor', 2, 20_000);
    const original = (await parseAll(mails)).find((m) => m.header('x-whatsapp-event') === 'message')!;
    const body = outlookReply('Yes, Friday at 3pm.', original);
    // The firm's mail system rewrites the reply domain into the bridge mailbox: the header keeps
    // the reply address, the envelope goes to replies@firm.test.
    await nodemailer.createTransport({ host: '127.0.0.1', port: env.stack.smtpPort, secure: false, ignoreTLS: true }).sendMail({
      envelope: { from: solicitor.address, to: ['replies@firm.test'] },
      from: solicitor,
      to: original.parsed.replyTo!.value[0]!.address!,
      subject: `RE: ${original.parsed.subject}`,
      inReplyTo: original.parsed.messageId!,
      html: body.html,
      text: body.text,
    });
    const sentBefore = env.world.simulator.sent.length;
    await waitFor(async () => (await env.world.bridge.replyPoller!.pollNow()) > 0, 20_000, () => 'the reply never reached the mailbox');
    await waitFor(() => env.world.simulator.sent.length > sentBefore, 20_000, () => 'nothing sent to WhatsApp');
    expect(env.world.simulator.sent.at(-1)?.body).toMatchObject({ type: 'text', text: { body: 'Yes, Friday at 3pm.' } });
    expect(await env.world.bridge.replyPoller!.pollNow()).toBe(0);
  });
});
