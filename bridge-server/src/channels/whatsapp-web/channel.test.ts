import { createHash } from 'node:crypto';
import whatsappWeb from 'whatsapp-web.js';
import { describe, expect, it } from 'vitest';
import { BadInputError, UpstreamError } from '../../core/errors.js';
import type { OutboundMessage } from '../../core/ports.js';
import { toChatId, WhatsAppWebChannel } from './channel.js';
import type { WebMedia } from './client-port.js';
import { WhatsAppWebMediaFetcher } from './media.js';
import { FakeChat, FakeWebClient, loadFixture, toMessage, type MessageJson } from './test-client.js';

const firm = '442071234567';

function readySession(client: FakeWebClient, businessId = firm) {
  return { readyClient: () => ({ client, businessId }) };
}
const notConnected = { readyClient: () => undefined };

function readyClient(): FakeWebClient {
  const client = new FakeWebClient();
  client.info = { wid: { user: firm, _serialized: `${firm}@c.us` } };
  return client;
}

const reply = (extra: Partial<OutboundMessage> = {}): OutboundMessage => ({ to: '447700900123@c.us', businessId: firm, files: [], ...extra });

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('WhatsAppWebChannel.send', () => {
  it('sends text quoting a message, without marking the chat read', async () => {
    const client = readyClient();
    const channel = new WhatsAppWebChannel({ session: readySession(client) });
    const receipt = await channel.send(reply({ text: 'We will send the letter today.', quotedWaMessageId: 'false_447700900123@c.us_3EB0C767D82B0A8E3F4A' }));
    expect(client.sent).toEqual([
      {
        chatId: '447700900123@c.us',
        content: 'We will send the letter today.',
        options: { sendSeen: false, quotedMessageId: 'false_447700900123@c.us_3EB0C767D82B0A8E3F4A' },
      },
    ]);
    expect(receipt).toEqual({ waMessageId: 'true_447700900123@c.us_3EB0F1E2D3C4B5A60001', timestamp: 1763903001000 });
  });

  it('sends a PDF as a document, as the library own MessageMedia, with the text as caption', async () => {
    const client = readyClient();
    const channel = new WhatsAppWebChannel({ session: readySession(client) });
    const bytes = Buffer.from('%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');
    await channel.send(reply({ text: 'The signed lease', files: [{ fileName: 'Lease - Mill Lane.pdf', mimeType: 'application/pdf', bytes }] }));
    const [sent] = client.sent;
    // sendMessage() only treats `instanceof MessageMedia` as a file (src/Client.js).
    expect(sent?.content).toBeInstanceOf(whatsappWeb.MessageMedia);
    expect(sent?.content).toMatchObject({ mimetype: 'application/pdf', data: bytes.toString('base64'), filename: 'Lease - Mill Lane.pdf', filesize: bytes.length });
    expect(sent?.options).toEqual({ sendSeen: false, caption: 'The signed lease', sendMediaAsDocument: true });
  });

  it('sends a photo inline, and a video as a document unless told the browser can send video', async () => {
    const client = readyClient();
    const photo = { fileName: 'site.jpg', mimeType: 'image/jpeg', bytes: Buffer.from([0xff, 0xd8, 0xff, 0xd9]) };
    const video = { fileName: 'site.mp4', mimeType: 'video/mp4', bytes: Buffer.from([0, 0, 0, 24]) };
    await new WhatsAppWebChannel({ session: readySession(client) }).send(reply({ files: [photo] }));
    await new WhatsAppWebChannel({ session: readySession(client) }).send(reply({ files: [video] }));
    await new WhatsAppWebChannel({ session: readySession(client), inlineVideo: true }).send(reply({ files: [video] }));
    expect(client.sent.map((s) => s.options?.sendMediaAsDocument)).toEqual([undefined, true, undefined]);
  });

  it('refuses templates, several files and empty messages as bad input', async () => {
    const channel = new WhatsAppWebChannel({ session: readySession(readyClient()) });
    const file = { fileName: 'a.pdf', mimeType: 'application/pdf', bytes: Buffer.from('a') };
    const cases: Array<[Partial<OutboundMessage>, string]> = [
      [{ template: { name: 'appointment_reminder', language: 'en_GB', parameters: [] } }, 'template_unsupported'],
      [{ files: [file, file] }, 'too_many_files'],
      [{ text: '  ' }, 'empty_message'],
    ];
    for (const [extra, code] of cases) {
      const error = await rejection(channel.send(reply(extra)));
      expect(error).toBeInstanceOf(BadInputError);
      expect(error).toMatchObject({ code });
    }
  });

  it('fails transiently while the session is not connected, or when the page crashed', async () => {
    const offline = await rejection(new WhatsAppWebChannel({ session: notConnected }).send(reply({ text: 'Hello' })));
    expect(offline).toBeInstanceOf(UpstreamError);
    expect(offline).toMatchObject({ retry: 'transient', service: 'whatsapp-web' });

    const client = readyClient();
    client.onSend = async () => Promise.reject(new Error('Protocol error (Runtime.callFunctionOn): Target closed.'));
    const crashed = await rejection(new WhatsAppWebChannel({ session: readySession(client) }).send(reply({ text: 'Hello' })));
    expect(crashed).toMatchObject({ retry: 'transient' });
  });

  it('fails permanently for a chat id WhatsApp Web rejects or cannot find, and for another linked number', async () => {
    const client = readyClient();
    const channel = new WhatsAppWebChannel({ session: readySession(client) });
    expect(await rejection(channel.send(reply({ to: 'jane smith', text: 'Hi' })))).toMatchObject({ retry: 'permanent' });

    client.onSend = async () => Promise.reject(new Error('Evaluation failed: Error: wid error: invalid wid'));
    expect(await rejection(channel.send(reply({ text: 'Hi' })))).toMatchObject({ retry: 'permanent' });

    client.onSend = async () => undefined;
    expect(await rejection(channel.send(reply({ text: 'Hi' })))).toMatchObject({ retry: 'permanent' });

    const relinked = new WhatsAppWebChannel({ session: readySession(readyClient(), '447911123456') });
    expect(await rejection(relinked.send(reply({ text: 'Hi' })))).toMatchObject({ retry: 'permanent' });
  });

  it('treats a send that hangs as a transient failure', async () => {
    const client = readyClient();
    client.onSend = () => new Promise(() => undefined);
    const error = await rejection(new WhatsAppWebChannel({ session: readySession(client), timeoutMs: 20 }).send(reply({ text: 'Hi' })));
    expect(error).toMatchObject({ retry: 'transient' });
  });
});

describe('WhatsAppWebChannel.findSent', () => {
  const jid = '447700900123@c.us';
  /** A client whose chat with Jane holds what the firm sent at `at` (Unix seconds) and one message from her. */
  function chatWithSends(sends: Array<{ id: string; at: number; body: string; type?: string; quoted?: boolean; filename?: string }>) {
    const client = readyClient();
    const fromJane = toMessage({ ...loadFixture<MessageJson>('text-from-client.json'), timestamp: sends[0]?.at ?? 0 });
    const mine = sends.map((one) =>
      toMessage({
        id: { fromMe: true, remote: jid, id: one.id, _serialized: `true_${jid}_${one.id}` },
        from: `${firm}@c.us`,
        to: jid,
        fromMe: true,
        type: one.type ?? 'chat',
        body: one.body,
        timestamp: one.at,
        hasMedia: one.type !== undefined,
        hasQuotedMsg: one.quoted ?? false,
        ...(one.filename ? { _data: { filename: one.filename } } : {}),
      }),
    );
    client.chats = [FakeChat.of(jid, 'Jane Smith', [fromJane, ...mine])];
    return { client, chat: client.chats[0]! };
  }
  const at = 1_780_000_000;

  it('finds the firm messages with the same text sent since the reply was accepted, oldest first, asking only for its own', async () => {
    const { client, chat } = chatWithSends([
      { id: 'LATER', at: at + 30, body: 'Signed today.' },
      { id: 'EARLY', at: at + 5, body: 'Signed today.' },
      { id: 'OTHER', at: at + 6, body: 'Something else.' },
      { id: 'BEFORE', at: at - 120, body: 'Signed today.' },
    ]);
    const found = await new WhatsAppWebChannel({ session: readySession(client) }).findSent(reply({ text: 'Signed today.' }), at * 1000);
    expect(found).toEqual([
      { waMessageId: `true_${jid}_EARLY`, timestamp: (at + 5) * 1000 },
      { waMessageId: `true_${jid}_LATER`, timestamp: (at + 30) * 1000 },
    ]);
    expect(chat.fetchCalls).toEqual([{ limit: 50, fromMe: true }]);
  });

  it('never takes a message typed on the phone, only what WhatsApp Web sent', async () => {
    const { client } = chatWithSends([
      { id: '3A1F2E3D4C5B6A79', at: at + 1, body: 'Signed today.' },
      { id: 'A1B2C3D4E5F60718293A4B5C6D7E8F90', at: at + 2, body: 'Signed today.' },
      { id: '3EB0C4D5E6F7A8B9', at: at + 3, body: 'Signed today.' },
    ]);
    const found = await new WhatsAppWebChannel({ session: readySession(client) }).findSent(reply({ text: 'Signed today.' }), at * 1000);
    expect(found.map((r) => r.waMessageId)).toEqual([`true_${jid}_3EB0C4D5E6F7A8B9`]);
  });

  it('allows a minute for WhatsApp stamping by its own clock, in whole seconds', async () => {
    const { client } = chatWithSends([{ id: 'SKEWED', at: at - 40, body: 'Signed today.' }]);
    expect(await new WhatsAppWebChannel({ session: readySession(client) }).findSent(reply({ text: 'Signed today.' }), at * 1000)).toHaveLength(1);
  });

  it('tells a file apart by its kind, caption and name, and a quoting message by its quote', async () => {
    const { client } = chatWithSends([
      { id: 'IMAGE', at: at + 1, body: 'The lease', type: 'image' },
      { id: 'DOC1', at: at + 2, body: 'The lease', type: 'document', filename: 'Plan.pdf' },
      { id: 'DOC2', at: at + 3, body: 'The lease', type: 'document', filename: 'Lease.pdf' },
      { id: 'QUOTE', at: at + 4, body: 'Yes', quoted: true },
    ]);
    const channel = new WhatsAppWebChannel({ session: readySession(client) });
    const pdf = { fileName: 'Lease.pdf', mimeType: 'application/pdf', bytes: Buffer.from('%PDF') };
    const ids = async (message: OutboundMessage) => (await channel.findSent(message, at * 1000)).map((r) => r.waMessageId.split('_').at(-1));
    expect(await ids(reply({ text: 'The lease', files: [pdf] }))).toEqual(['DOC2']);
    expect(await ids(reply({ text: 'The lease', files: [{ ...pdf, fileName: 'Photo.jpg', mimeType: 'image/jpeg' }] }))).toEqual(['IMAGE']);
    expect(await ids(reply({ text: 'Yes' }))).toEqual([]);
    expect(await ids(reply({ text: 'Yes', quotedWaMessageId: 'false_447700900123@c.us_3EB0C767D82B0A8E3F4A' }))).toEqual(['QUOTE']);
  });

  it('sees the messages the channel itself sent', async () => {
    const client = readyClient();
    client.chats = [FakeChat.of(jid, 'Jane Smith')];
    client.sentTimestamp = () => at + 2;
    const channel = new WhatsAppWebChannel({ session: readySession(client) });
    const receipt = await channel.send(reply({ text: 'On its way.' }));
    expect(await channel.findSent(reply({ text: 'On its way.' }), at * 1000)).toEqual([receipt]);
  });

  it('waits for the session like a send: transient while it is not connected', async () => {
    expect(await rejection(new WhatsAppWebChannel({ session: notConnected }).findSent(reply({ text: 'Hello' }), 0))).toMatchObject({ retry: 'transient' });
  });
});

describe('toChatId', () => {
  it('accepts JIDs and international numbers, nothing else', () => {
    expect(toChatId('+44 7700 900123'.replace(/ /g, ''))).toBe('447700900123@c.us');
    expect(toChatId('447700900123')).toBe('447700900123@c.us');
    expect(toChatId('120363041234567890@g.us')).toBe('120363041234567890@g.us');
    expect(toChatId('86432162136098@lid')).toBe('86432162136098@lid');
    expect(toChatId('status@broadcast')).toBeUndefined();
    expect(toChatId('447700900123@c.us\r\nX: y')).toBeUndefined();
  });
});

describe('WhatsAppWebMediaFetcher', () => {
  const image = loadFixture<MessageJson>('image-with-caption-from-client.json');
  const media = loadFixture<WebMedia>('image-with-caption-from-client.media.json');
  const filehash = String(image._data?.filehash);
  const ref = { waMediaId: image.id._serialized, businessId: firm, announcedSha256: filehash };

  it('downloads the media of a message by its id and checks it against the announced hash', async () => {
    const client = readyClient();
    client.stored.set(image.id._serialized, toMessage(image, { media }));
    const fetched = await new WhatsAppWebMediaFetcher({ session: readySession(client) }).fetch(ref);
    expect(fetched.mimeType).toBe('image/jpeg');
    expect(createHash('sha256').update(fetched.bytes).digest('base64')).toBe(filehash);
  });

  it('reports media WhatsApp Web no longer has as permanently unavailable', async () => {
    const client = readyClient();
    client.stored.set(image.id._serialized, toMessage(image));
    const expired = await rejection(new WhatsAppWebMediaFetcher({ session: readySession(client) }).fetch(ref));
    expect(expired).toBeInstanceOf(UpstreamError);
    expect(expired).toMatchObject({ retry: 'permanent', message: expect.stringContaining('media unavailable') });

    const gone = await rejection(new WhatsAppWebMediaFetcher({ session: readySession(readyClient()) }).fetch(ref));
    expect(gone).toMatchObject({ retry: 'permanent' });
  });

  it('discards bytes that do not match the announced hash', async () => {
    const client = readyClient();
    client.stored.set(image.id._serialized, toMessage(image, { media: { ...media, data: Buffer.from('something else').toString('base64') } }));
    const error = await rejection(new WhatsAppWebMediaFetcher({ session: readySession(client) }).fetch(ref));
    expect(error).toBeInstanceOf(BadInputError);
    expect(error).toMatchObject({ code: 'media_hash_mismatch' });
  });

  it('waits for the session: transient while it is not connected', async () => {
    expect(await rejection(new WhatsAppWebMediaFetcher({ session: notConnected }).fetch(ref))).toMatchObject({ retry: 'transient' });
  });

  it('refuses media over the size limit', async () => {
    const client = readyClient();
    client.stored.set(image.id._serialized, toMessage(image, { media }));
    expect(await rejection(new WhatsAppWebMediaFetcher({ session: readySession(client), maxBytes: 10 }).fetch(ref))).toMatchObject({ retry: 'permanent' });
  });
});
