import { describe, expect, it } from 'vitest';
import { docxOf, pdfOf } from '../../bridge-server/src/search/test-documents.js';
import { waitFor } from '../support/bridge.js';
import { useApiWorld, users } from '../support/api-world.js';

/**
 * Documents a client sends are read in the background and their text searched with their
 * messages, on either engine; a document that gives no text says why, and its message and mail
 * are as any other's.
 */
const api = useApiWorld();

type Hit = { conversationId: number; snippet: Array<{ text: string; match: boolean }>; documents: string[] };

async function sendDocument(from: string, name: string, bytes: Buffer, mimeType: string, filename: string, caption?: string): Promise<{ conversationId: number; attachmentId: number }> {
  const { simulator, bridge } = api.world;
  const envelope = simulator.inboundMessage({ from, name, type: 'document', media: simulator.addMedia(bytes, mimeType), filename, ...(caption ? { caption } : {}), timestamp: new Date() });
  expect((await simulator.postWebhook(envelope)).status).toBe(200);
  const waMessageId = (envelope.entry[0]!.changes[0]!.value.messages as Array<{ id: string }>)[0]!.id;
  let found: { conversationId: number; attachmentId: number } | undefined;
  await waitFor(
    async () => {
      const row = await bridge.store.db
        .selectFrom('attachments as a')
        .innerJoin('events as e', 'e.id', 'a.event_id')
        .select(['e.conversation_id', 'a.id', 'a.text_state'])
        .where('e.wa_message_id', '=', waMessageId)
        .executeTakeFirst();
      if (row && row.text_state !== 'pending' && !row.text_state?.startsWith('working:')) found = { conversationId: row.conversation_id, attachmentId: row.id };
      return found !== undefined;
    },
    30_000,
    () => `document ${filename} not read`,
  );
  return found!;
}

const textStateOf = async (attachmentId: number) => (await api.world.bridge.store.db.selectFrom('attachments').select('text_state').where('id', '=', attachmentId).executeTakeFirstOrThrow()).text_state;
const search = async (q: string) => (await api.as(users.admin)('GET', `/api/search?q=${encodeURIComponent(q)}`)).body.items as Hit[];

describe('searching inside documents clients send', () => {
  it('finds a PDF and a Word document by words inside them, the match marked in the snippet', async () => {
    const lease = await sendDocument('447700900871', 'Lena Lease', await pdfOf(['Tenancy agreement', 'Clause 4: the deposit of £1,200 is held by the agent.']), 'application/pdf', 'lease.pdf', 'Signed copy');
    const statement = await sendDocument('447700900872', 'Wes Witness', await docxOf(['Witness statement', 'I saw the blue van outside the bakery at dawn.']), 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'statement.docx');
    expect(await textStateOf(lease.attachmentId)).toBe('indexed');
    expect(await textStateOf(statement.attachmentId)).toBe('indexed');

    const deposit = await search('deposit agent');
    expect(deposit.map((hit) => hit.conversationId)).toEqual([lease.conversationId]);
    expect(deposit[0]!.snippet.filter((part) => part.match).map((part) => part.text.toLowerCase())).toEqual(['deposit', 'agent']);
    // The hit names the document whose text was searched with the message.
    expect(deposit[0]!.documents).toEqual(['lease.pdf']);
    // The caption and file name are still found, as before.
    expect((await search('signed lease')).map((hit) => hit.conversationId)).toEqual([lease.conversationId]);
    expect((await search('bakery dawn')).map((hit) => hit.conversationId)).toEqual([statement.conversationId]);
    expect(await search('bakery deposit')).toEqual([]);

    // Within the conversation too, as the conversation view searches.
    const within = await api.as(users.admin)('GET', `/api/search?q=van&conversationId=${statement.conversationId}`);
    expect(within.status).toBe(200);
    expect((within.body.items as Hit[]).map((hit) => hit.conversationId)).toEqual([statement.conversationId]);
  });

  it('marks a document that gives no text with the reason, and relays its mail as any other', async () => {
    const mailsBefore = api.catcher.mails().length;
    const broken = await sendDocument('447700900873', 'Bea Broken', Buffer.from('%PDF-1.7\nnot a real document, quietlyunfindable'), 'application/pdf', 'broken.pdf');
    expect(await textStateOf(broken.attachmentId)).toMatch(/^none: not readable as PDF \(/);
    const scan = await sendDocument('447700900873', 'Bea Broken', await pdfOf(['']), 'application/pdf', 'scan.pdf');
    expect(await textStateOf(scan.attachmentId)).toBe('none: no text in it (a scan, say)');
    expect(await search('quietlyunfindable')).toEqual([]);
    // Each still found by its file name; no document text was searched with it.
    const byName = await search('broken');
    expect(byName.map((hit) => hit.conversationId)).toEqual([broken.conversationId]);
    expect(byName[0]!.documents).toEqual([]);
    await waitFor(() => api.catcher.mails().length >= mailsBefore + 3, 20_000, () => `${api.catcher.mails().length - mailsBefore} mails`);

    // The admin view lists them, newest first, as what a search cannot look inside.
    const unread = await api.as(users.admin)('GET', '/api/admin/unread-documents');
    expect(unread.status).toBe(200);
    expect(unread.body.items).toEqual([
      { attachmentId: scan.attachmentId, conversationId: scan.conversationId, chatId: expect.any(String), clientName: 'Bea Broken', messageId: expect.any(Number), fileName: 'scan.pdf', sentAt: expect.any(String), reason: 'no text in it (a scan, say)' },
      expect.objectContaining({ attachmentId: broken.attachmentId, fileName: 'broken.pdf', reason: expect.stringMatching(/^not readable as PDF \(/) }),
    ]);
    expect((await api.as(users.compliance)('GET', '/api/admin/unread-documents')).status).toBe(403);
    const metrics = await (await fetch(`${api.world.bridge.url}/metrics`)).text();
    expect(metrics).toMatch(/wa_bridge_documents_read_total\{outcome="none"\} [2-9]/);
    expect(metrics).toMatch(/wa_bridge_documents_read_total\{outcome="indexed"\} [2-9]/);
  });

  it('leaves photos and other media alone', async () => {
    const { simulator, bridge } = api.world;
    const envelope = simulator.inboundMessage({ from: '447700900874', name: 'Pia Photo', type: 'image', media: simulator.addMedia(Buffer.from('not really a jpeg'), 'image/jpeg'), timestamp: new Date() });
    expect((await simulator.postWebhook(envelope)).status).toBe(200);
    const waMessageId = (envelope.entry[0]!.changes[0]!.value.messages as Array<{ id: string }>)[0]!.id;
    await waitFor(
      async () => (await bridge.store.db.selectFrom('attachments as a').innerJoin('events as e', 'e.id', 'a.event_id').select('a.sha256').where('e.wa_message_id', '=', waMessageId).executeTakeFirst())?.sha256 != null,
      10_000,
      () => 'photo not stored',
    );
    const row = await bridge.store.db.selectFrom('attachments as a').innerJoin('events as e', 'e.id', 'a.event_id').select('a.text_state').where('e.wa_message_id', '=', waMessageId).executeTakeFirstOrThrow();
    expect(row.text_state).toBeNull();
  });
});
