import { randomBytes } from 'node:crypto';
import { simpleParser, type ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WindowClosedError } from '../../bridge-server/src/core/errors.js';
import { startMailCatcher, type MailCatcher } from '../../bridge-server/src/sandbox/catcher.js';
import { getOutbound } from '../../bridge-server/src/store/outbound.js';
import { startBridgeWorld, waitFor, type BridgeWorld } from '../support/bridge.js';

const author = { name: 'Tom Baker', address: 'tom.baker@firm.test' };

describe('replies to the client over the Cloud API', () => {
  let catcher: MailCatcher;
  let world: BridgeWorld;

  beforeAll(async () => {
    catcher = await startMailCatcher({});
    world = await startBridgeWorld({ smtpUrl: catcher.url, mailbox: 'solicitor@firm.test', env: { WA_BRIDGE_TEMPLATES: 'appointment_reminder:en_GB,case_update:en_GB:Matter name' } });
  });
  afterAll(async () => {
    await world?.stop();
    await catcher?.stop();
  });

  const parsedMails = async (): Promise<ParsedMail[]> => Promise.all(catcher.mails().map((m) => simpleParser(m.raw)));
  const clientWrites = async (from: string, body: string, timestamp = new Date()) => {
    const envelope = world.simulator.inboundMessage({ from, name: 'Jane Smith', type: 'text', body, timestamp });
    expect((await world.simulator.postWebhook(envelope)).status).toBe(200);
    const waMessageId = (envelope.entry[0]!.changes[0]!.value.messages as Array<{ id: string }>)[0]!.id;
    let conversationId = 0;
    await waitFor(
      async () => {
        const row = await world.bridge.store.db.selectFrom('events').select('conversation_id').where('wa_message_id', '=', waMessageId).executeTakeFirst();
        conversationId = row?.conversation_id ?? 0;
        return conversationId > 0;
      },
      5000,
      () => 'event not stored',
    );
    return { conversationId, waMessageId };
  };

  it('sends text and a PDF, mirrors the reply into the thread, and keeps the best delivery status', async () => {
    const { conversationId, waMessageId } = await clientWrites('447700900501', 'Can you send me the lease?');
    const pdf = randomBytes(20_000);
    const sha256 = await world.bridge.sandbox?.simulator.url; // never set outside the sandbox
    expect(sha256).toBeUndefined();
    const blobs = (await import('../../bridge-server/src/store/blob-files.js')).FileBlobStore;
    const stored = await new blobs(`${world.dataDir}/blobs`).put(pdf);
    const sentBefore = world.simulator.sent.length;
    const accepted = await world.bridge.reply({
      conversationId,
      text: 'Here is the lease, Jane.',
      files: [{ fileName: 'Lease.pdf', mimeType: 'application/pdf', sha256: stored, size: pdf.length }],
      quotedWaMessageId: waMessageId,
      author,
      source: { kind: 'api', ref: 'test-reply-1' },
    });
    await waitFor(() => world.simulator.sent.length > sentBefore, 10_000, () => 'nothing sent');
    const sent = world.simulator.sent.at(-1)!;
    expect(sent.type).toBe('document');
    expect(sent.body).toMatchObject({ to: '447700900501', context: { message_id: waMessageId }, document: { caption: 'Here is the lease, Jane.', filename: 'Lease.pdf' } });

    // The mirrored mail: from the solicitor via WhatsApp, in the chat's thread, with the PDF.
    await waitFor(async () => (await parsedMails()).some((m) => m.headers.get('x-whatsapp-message-id') === sent.waMessageId), 10_000, () => 'no mirrored mail');
    const mails = await parsedMails();
    const mirrored = mails.find((m) => m.headers.get('x-whatsapp-message-id') === sent.waMessageId)!;
    const clientMail = mails.find((m) => m.headers.get('x-whatsapp-message-id') === waMessageId)!;
    expect(mirrored.headers.get('x-whatsapp-direction')).toBe('outbound');
    expect(mirrored.from?.value[0]?.name).toBe('Tom Baker via WhatsApp');
    expect(mirrored.subject).toBe(clientMail.subject);
    expect(mirrored.headers.get('x-whatsapp-chat-id')).toBe(clientMail.headers.get('x-whatsapp-chat-id'));
    expect(mirrored.inReplyTo).toBe(clientMail.messageId);
    expect(mirrored.attachments.map((a) => a.filename)).toEqual(['Lease.pdf']);
    expect(mirrored.attachments[0]!.content.equals(pdf)).toBe(true);

    // Statuses out of order: read, then a late delivered; the stored status stays read.
    for (const status of ['read', 'delivered', 'sent'] as const) {
      const answer = await world.simulator.postWebhook(world.simulator.statusUpdate({ id: sent.waMessageId, status, recipientId: '447700900501' }));
      expect(answer.status).toBe(200);
    }
    const record = await getOutbound(world.bridge.store.db, accepted.commandId);
    expect(record?.state).toBe('sent');
    expect(record?.parts.map((p) => p.status)).toEqual(['read']);
  });

  it('refuses a free-form reply outside the 24-hour window before sending, offering the templates', async () => {
    const { conversationId } = await clientWrites('447700900502', 'old message', new Date(Date.now() - 25 * 3600_000));
    const sentBefore = world.simulator.sent.length;
    const refusal = await world.bridge
      .reply({ conversationId, text: 'Sorry for the delay', files: [], author, source: { kind: 'api', ref: 'test-reply-2' } })
      .catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(WindowClosedError);
    expect((refusal as WindowClosedError).message).toContain('appointment_reminder (en_GB)');
    expect((refusal as WindowClosedError).templates).toEqual([
      { name: 'appointment_reminder', language: 'en_GB', parameterLabels: [] },
      { name: 'case_update', language: 'en_GB', parameterLabels: ['Matter name'] },
    ]);
    // A template may still go.
    await world.bridge.reply({ conversationId, template: { name: 'case_update', language: 'en_GB', parameters: ['Smith v Jones'] }, files: [], author, source: { kind: 'api', ref: 'test-reply-3' } });
    await waitFor(() => world.simulator.sent.length > sentBefore, 10_000, () => 'template not sent');
    expect(world.simulator.sent.at(-1)).toMatchObject({ type: 'template', body: { template: { name: 'case_update', language: { code: 'en_GB' } } } });
  });

  it('tells the solicitor in the thread when WhatsApp refuses the reply (error 131047)', async () => {
    const { conversationId } = await clientWrites('447700900503', 'Hello?');
    world.simulator.failNextSends(1, 400, 131047);
    const accepted = await world.bridge.reply({ conversationId, text: 'Reply that WhatsApp refuses', files: [], author, source: { kind: 'email', ref: 'reply-42@firm.test' } });
    await waitFor(async () => (await parsedMails()).some((m) => m.headers.get('x-whatsapp-event') === 'reply-failed'), 10_000, () => 'no notice');
    const notice = (await parsedMails()).find((m) => m.headers.get('x-whatsapp-event') === 'reply-failed')!;
    expect(notice.to && !Array.isArray(notice.to) ? notice.to.value.map((a) => a.address) : []).toEqual(['tom.baker@firm.test', 'solicitor@firm.test']);
    expect(notice.inReplyTo).toBe('<reply-42@firm.test>');
    expect(notice.text).toContain('was NOT sent on WhatsApp');
    expect(notice.text).toContain('more than 24 hours');
    expect(notice.text).toContain('case_update (en_GB)');
    const record = await getOutbound(world.bridge.store.db, accepted.commandId);
    expect(record).toMatchObject({ state: 'failed', errorCode: 'window_closed', parts: [] });
  });
  /** Sends a text reply by "email" and waits until its part is recorded; returns the reply and the wamid WhatsApp gave it. */
  const sendReply = async (conversationId: number, text: string, ref: string) => {
    const sentBefore = world.simulator.sent.length;
    const accepted = await world.bridge.reply({ conversationId, text, files: [], author, source: { kind: 'email', ref } });
    await waitFor(async () => (await getOutbound(world.bridge.store.db, accepted.commandId))?.state === 'sent', 10_000, () => 'reply not sent');
    expect(world.simulator.sent.length).toBe(sentBefore + 1);
    return { commandId: accepted.commandId, sent: world.simulator.sent.at(-1)! };
  };
  const noticeFor = async (ref: string): Promise<ParsedMail> => {
    await waitFor(async () => (await parsedMails()).some((m) => m.inReplyTo === `<${ref}>`), 10_000, () => `no notice for ${ref}`);
    return (await parsedMails()).find((m) => m.inReplyTo === `<${ref}>`)!;
  };

  it('marks a sent reply failed when WhatsApp later reports error 131047, and the notice offers the templates', async () => {
    const { conversationId } = await clientWrites('447700900504', 'Are you there?');
    const { commandId, sent } = await sendReply(conversationId, 'Yes, here is the update.', 'reply-late-131047@firm.test');
    const failed = world.simulator.statusUpdate({
      id: sent.waMessageId,
      status: 'failed',
      recipientId: '447700900504',
      errors: [{ code: 131047, title: 'Re-engagement message', details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.' }],
    });
    expect((await world.simulator.postWebhook(failed)).status).toBe(200);

    const notice = await noticeFor('reply-late-131047@firm.test');
    expect(notice.headers.get('x-whatsapp-event')).toBe('reply-failed');
    expect(notice.text).toContain('was NOT sent on WhatsApp');
    expect(notice.text).toContain('Why: WhatsApp refused the message: more than 24 hours have passed since the client last wrote');
    expect(notice.text).toContain('What to do: Send one of the approved WhatsApp templates');
    expect(notice.text).toContain('Approved templates: appointment_reminder (en_GB), case_update (en_GB)');
    expect(notice.text).toContain('Yes, here is the update.');
    const record = await getOutbound(world.bridge.store.db, commandId);
    expect(record).toMatchObject({ state: 'failed', errorCode: 'window_closed', parts: [{ index: 0, waMessageId: sent.waMessageId, status: 'failed' }] });
  });

  it('marks a sent reply failed when WhatsApp later reports another error, naming it, without the template hint', async () => {
    const { conversationId } = await clientWrites('447700900505', 'Hi again');
    const { commandId, sent } = await sendReply(conversationId, 'Noted, thanks.', 'reply-late-131026@firm.test');
    const failed = world.simulator.statusUpdate({ id: sent.waMessageId, status: 'failed', recipientId: '447700900505', errors: [{ code: 131026, title: 'Message undeliverable' }] });
    expect((await world.simulator.postWebhook(failed)).status).toBe(200);

    const notice = await noticeFor('reply-late-131026@firm.test');
    expect(notice.text).toContain('Why: WhatsApp could not deliver the message (error 131026: Message undeliverable).');
    expect(notice.text).toContain("What to do: WhatsApp accepted the message but could not deliver it. Check that the client's number still uses WhatsApp");
    expect(notice.text).not.toContain('Approved templates');
    const record = await getOutbound(world.bridge.store.db, commandId);
    expect(record).toMatchObject({ state: 'failed', errorCode: 'delivery_failed', parts: [{ status: 'failed' }] });

    // A late read after the failure changes nothing.
    expect((await world.simulator.postWebhook(world.simulator.statusUpdate({ id: sent.waMessageId, status: 'read', recipientId: '447700900505' }))).status).toBe(200);
    expect(await getOutbound(world.bridge.store.db, commandId)).toMatchObject({ state: 'failed', parts: [{ status: 'failed' }] });
  });

  it('sends each part with its callback data and links a status back by it when the WhatsApp id is unknown', async () => {
    const { conversationId } = await clientWrites('447700900506', 'Did you get my papers?');
    const { commandId, sent } = await sendReply(conversationId, 'Yes, all received.', 'reply-callback@firm.test');
    expect(sent.body).toMatchObject({ biz_opaque_callback_data: `reply:${commandId}:0` });

    // A status for an id the store has never recorded, carrying only the callback: it reaches the reply's part.
    const unknownId = `wamid.${randomBytes(12).toString('hex')}`;
    const delivered = world.simulator.statusUpdate({ id: unknownId, status: 'delivered', recipientId: '447700900506', callbackData: `reply:${commandId}:0` });
    expect((await world.simulator.postWebhook(delivered)).status).toBe(200);
    expect((await getOutbound(world.bridge.store.db, commandId))?.parts).toEqual([expect.objectContaining({ index: 0, waMessageId: sent.waMessageId, status: 'delivered' })]);

    // The callback does not reach a part of another client's chat, nor a part that does not exist.
    for (const status of [
      world.simulator.statusUpdate({ id: `wamid.${randomBytes(12).toString('hex')}`, status: 'read', recipientId: '447700900999', callbackData: `reply:${commandId}:0` }),
      world.simulator.statusUpdate({ id: `wamid.${randomBytes(12).toString('hex')}`, status: 'read', recipientId: '447700900506', callbackData: `reply:${commandId}:1` }),
      world.simulator.statusUpdate({ id: `wamid.${randomBytes(12).toString('hex')}`, status: 'read', recipientId: '447700900506' }),
    ]) {
      expect((await world.simulator.postWebhook(status)).status).toBe(200);
    }
    expect((await getOutbound(world.bridge.store.db, commandId))?.parts.map((p) => p.status)).toEqual(['delivered']);
  });
});
