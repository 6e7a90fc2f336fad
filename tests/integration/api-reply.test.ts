import { randomBytes } from 'node:crypto';
import { simpleParser } from 'mailparser';
import { beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/bridge.js';
import { useApiWorld, users } from '../support/api-world.js';

const api = useApiWorld({ WA_BRIDGE_TEMPLATES: 'case_update:en_GB:Matter reference' });

let conversationId = 0;
let clientMessageId = '';

beforeAll(async () => {
  ({ conversationId, waMessageId: clientMessageId } = await api.clientWrites('447700900701', 'Can you send me the lease?', { name: 'Jane Smith' }));
  const matter = await api.as(users.solicitorA)('POST', '/api/matters', { reference: 'SMI-1', title: 'Smith lease' });
  expect((await api.as(users.admin)('POST', `/api/conversations/${conversationId}/links`, { matterId: matter.body.id })).status).toBe(201);
});

describe('replies through the API', () => {
  it('sends text and a file through the reply flow: the simulator gets it and the mailbox thread gets its mirror', async () => {
    const alice = api.as(users.solicitorA);
    const pdf = randomBytes(30_000);
    const sentBefore = api.world.simulator.sent.length;
    const text = 'Here is the lease, Jane 📄 (signed copy)';
    const answer = await alice('POST', `/api/conversations/${conversationId}/replies`, {
      text,
      files: [{ fileName: 'Lease.pdf', mimeType: 'application/pdf', contentBase64: pdf.toString('base64') }],
      quotedWaMessageId: clientMessageId,
      clientRef: 'reply-lease-0001',
    });
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ created: true, state: 'queued' });

    await waitFor(() => api.world.simulator.sent.length > sentBefore, 10_000, () => 'nothing sent');
    const sent = api.world.simulator.sent.at(-1)!;
    expect(sent.type).toBe('document');
    expect(sent.body).toMatchObject({ to: '447700900701', context: { message_id: clientMessageId }, document: { caption: text, filename: 'Lease.pdf' } });
    const uploaded = api.world.simulator.mediaById((sent.body.document as { id: string }).id);
    expect(uploaded?.bytes.equals(pdf)).toBe(true);

    await waitFor(() => api.catcher.mails().length >= 3, 10_000, () => `${api.catcher.mails().length} mails`);
    const mails = await Promise.all(api.catcher.mails().map((m) => simpleParser(m.raw)));
    const mirrored = mails.find((m) => m.headers.get('x-whatsapp-message-id') === sent.waMessageId);
    const detail = await alice('GET', `/api/conversations/${conversationId}`);
    expect(mirrored?.from?.value[0]?.name).toBe('Alice Solicitor via WhatsApp');
    expect(mirrored?.headers.get('x-whatsapp-direction')).toBe('outbound');
    expect(mirrored?.headers.get('x-whatsapp-chat-id')).toBe(detail.body.chatId);
    expect(mirrored?.attachments[0]?.content.equals(pdf)).toBe(true);

    // The same clientRef again is the same reply, not a second message.
    const again = await alice('POST', `/api/conversations/${conversationId}/replies`, { text, clientRef: 'reply-lease-0001' });
    expect(again.body).toMatchObject({ commandId: answer.body.commandId, created: false });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(api.world.simulator.sent.length).toBe(sentBefore + 1);

    // The conversation view: the client's message, then the reply quoting it, with its file and ticks.
    expect((await api.world.simulator.postWebhook(api.world.simulator.statusUpdate({ id: sent.waMessageId, status: 'read', recipientId: '447700900701' }))).status).toBe(200);
    const page = await alice('GET', `/api/conversations/${conversationId}/messages`);
    expect(page.status).toBe(200);
    const [first, reply] = page.body.items;
    expect(first).toMatchObject({ direction: 'inbound', kind: 'message', text: 'Can you send me the lease?', sender: { name: 'Jane Smith', side: 'client' }, delivery: null });
    expect(reply).toMatchObject({
      direction: 'outbound',
      contentType: 'document',
      text,
      sender: { name: 'Alice Solicitor', side: 'firm' },
      quoted: { waMessageId: clientMessageId, text: 'Can you send me the lease?', senderName: 'Jane Smith' },
      delivery: { status: 'read' },
      attachments: [{ fileName: 'Lease.pdf', mimeType: 'application/pdf', size: pdf.length }],
    });
    expect(page.body.pending).toEqual([]);

    // The file downloads for Alice, not for Bob.
    const download = await fetch(`${api.world.bridge.url}${reply.attachments[0].downloadUrl}`, { headers: { authorization: `Bearer ${await api.token(users.solicitorA)}` } });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toContain('filename="Lease.pdf"');
    expect(Buffer.from(await download.arrayBuffer()).equals(pdf)).toBe(true);
    expect((await api.as(users.solicitorB)('GET', reply.attachments[0].downloadUrl)).status).toBe(403);

    // The trail: one reply (the retried clientRef recorded as not created) and the download.
    const { queryAudit } = await import('../../bridge-server/src/store/audit.js');
    const entries = await queryAudit(api.world.bridge.store.db, {});
    expect(entries.filter((e) => e.action === 'reply').map((e) => e.details)).toEqual([
      { commandId: answer.body.commandId, created: true, files: 1, template: null },
      { commandId: answer.body.commandId, created: false, files: 0, template: null },
    ]);
    expect(entries.filter((e) => e.action === 'media.read').map((e) => e.actor)).toEqual([users.solicitorA.upn]);
  });

  it('pages older messages with a cursor', async () => {
    const alice = api.as(users.solicitorA);
    const newest = await alice('GET', `/api/conversations/${conversationId}/messages?limit=1`);
    expect(newest.body.items).toHaveLength(1);
    expect(newest.body.items[0].direction).toBe('outbound');
    const older = await alice('GET', `/api/conversations/${conversationId}/messages?limit=1&cursor=${newest.body.nextCursor}`);
    expect(older.body.items[0].waMessageId).toBe(clientMessageId);
    expect(older.body.nextCursor).toBeNull();
  });

  it('refuses a free-form reply outside the 24-hour window with the templates on offer, and sends a template', async () => {
    const old = await api.clientWrites('447700900702', 'Old question', { timestamp: new Date(Date.now() - 25 * 3600_000) });
    const admin = api.as(users.admin);
    const window = await admin('GET', `/api/conversations/${old.conversationId}/window`);
    expect(window.body).toMatchObject({ state: 'closed', templates: [{ name: 'case_update', language: 'en_GB', parameterLabels: ['Matter reference'] }] });
    const refused = await admin('POST', `/api/conversations/${old.conversationId}/replies`, { text: 'Sorry for the delay' });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'window_closed', templates: [{ name: 'case_update', language: 'en_GB', parameterLabels: ['Matter reference'] }], closesAt: window.body.closesAt });
    const sentBefore = api.world.simulator.sent.length;
    const template = await admin('POST', `/api/conversations/${old.conversationId}/replies`, { template: { name: 'case_update', language: 'en_GB', parameters: ['SMI-1'] } });
    expect(template.status).toBe(202);
    await waitFor(() => api.world.simulator.sent.length > sentBefore, 10_000, () => 'template not sent');
    expect(api.world.simulator.sent.at(-1)).toMatchObject({ type: 'template', body: { template: { name: 'case_update' } } });
  });

  it('refuses bad replies with every problem named and stores nothing', async () => {
    const alice = api.as(users.solicitorA);
    const before = await api.world.bridge.store.db.selectFrom('outbound_commands').select('id').execute();
    const bad = await alice('POST', `/api/conversations/${conversationId}/replies`, { text: 'x'.repeat(5000), files: [{ fileName: '', mimeType: 'application/pdf', contentBase64: '***' }] });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['files.0.contentBase64', 'files.0.fileName', 'text']);
    const empty = await alice('POST', `/api/conversations/${conversationId}/replies`, { text: '   ' });
    expect(empty.body.code).toBe('empty_reply');
    expect(await api.world.bridge.store.db.selectFrom('outbound_commands').select('id').execute()).toEqual(before);
  });
});
