import { describe, expect, it } from 'vitest';
import { inboundEventSchema } from '../../core/events.js';
import type { InboundEvent } from '../../core/events.js';
import { makeChatKey } from '../../core/ids.js';
import type { WebReaction } from './client-port.js';
import { normalizeAck, normalizeEdit, normalizeMessage, normalizeReaction, normalizeRevoke, type NormalizeContext } from './normalize.js';
import { loadFixture, toMessage, type MessageJson } from './test-client.js';

const business = { id: '442071234567', displayNumber: '442071234567' };
const lidPhones: Record<string, string> = { '86432162136098@lid': '447700900456', '212345678901234@lid': '447700900789' };
const context = (extra: Partial<NormalizeContext> = {}): NormalizeContext => ({ business, phoneOf: (lid) => lidPhones[lid], ...extra });
const noLids = (extra: Partial<NormalizeContext> = {}): NormalizeContext => ({ business, phoneOf: () => undefined, ...extra });

const message = (name: string) => toMessage(loadFixture<MessageJson>(name));

function contentOf(event: InboundEvent | undefined) {
  if (event?.kind !== 'message' && event?.kind !== 'edit') throw new Error(`no content on ${event?.kind}`);
  return event.content;
}

describe('normalizeMessage', () => {
  it('turns a client text into an inbound message keyed on the phone number', () => {
    const event = normalizeMessage(message('text-from-client.json'), context());
    expect(event).toMatchObject({
      channel: 'whatsapp-web',
      kind: 'message',
      business,
      client: { waId: '447700900123', name: 'Jane Smith' },
      waMessageId: 'false_447700900123@c.us_3EB0C767D82B0A8E3F4A',
      versionKey: '',
      timestamp: 1763901000000,
      direction: 'inbound',
      content: { type: 'text', body: 'Hello, I have a question about the lease on Mill Lane.' },
    });
    expect(event?.client.userId).toBeUndefined();
    expect(event?.author).toBeUndefined();
    // The archived raw record is WhatsApp Web's own model, as plain data.
    expect(event?.raw).toEqual({ message: loadFixture<MessageJson>('text-from-client.json')._data });
  });

  it('announces an image for download by its message id, with caption, type and hash', () => {
    const event = normalizeMessage(message('image-with-caption-from-client.json'), context());
    expect(contentOf(event)).toEqual({
      type: 'image',
      media: {
        waMediaId: 'false_447700900123@c.us_3A9F2C81E5B04D7A6C11',
        mimeType: 'image/jpeg',
        sha256: expect.stringMatching(/^[A-Za-z0-9+/]{43}=$/),
        caption: 'Photo of the signed tenancy agreement, page 3',
      },
    });
  });

  it('records a document the firm sent from the phone as outbound, with its file name', () => {
    const event = normalizeMessage(message('document-sent-from-firm-phone.json'), context({ chatName: 'Jane Smith' }));
    expect(event).toMatchObject({ direction: 'outbound', client: { waId: '447700900123', name: 'Jane Smith' }, kind: 'message' });
    expect(contentOf(event)).toMatchObject({
      type: 'document',
      media: { mimeType: 'application/pdf', fileName: 'Draft reply - Mill Lane.pdf', caption: 'Draft reply to the landlord' },
    });
  });

  it('never names the client after the firm on an outbound message', () => {
    const event = normalizeMessage(message('document-sent-from-firm-phone.json'), context());
    expect(event?.client).toEqual({ waId: '447700900123' });
  });

  it('marks a voice note as voice audio', () => {
    expect(contentOf(normalizeMessage(message('voice-note-from-client.json'), context()))).toMatchObject({
      type: 'audio',
      media: { mimeType: 'audio/ogg; codecs=opus', voice: true },
    });
  });

  it('reads a location with its name, address and link', () => {
    expect(contentOf(normalizeMessage(message('location-from-client.json'), context()))).toEqual({
      type: 'location',
      latitude: 51.5033635,
      longitude: -0.1276248,
      name: 'Mill Lane Flats',
      address: '12 Mill Lane, London SW1A 2AA',
      url: 'https://maps.example.com/?q=51.5033635,-0.1276248',
    });
  });

  it('reads a shared contact card, with the WhatsApp id of its number', () => {
    const content = contentOf(normalizeMessage(message('contact-card-from-client.json'), context()));
    expect(content).toEqual({
      type: 'contacts',
      contacts: [
        {
          formattedName: 'Tom Baker',
          firstName: 'Tom',
          lastName: 'Baker',
          phones: [{ phone: '+44 7700 900456', waId: '447700900456', type: undefined }],
          emails: [{ email: 'tom@baker-lettings.example', type: 'WORK' }],
          urls: [],
          org: { company: 'Baker & Sons Lettings', department: 'Lettings', title: 'Letting agent' },
          addresses: [],
        },
      ],
    });
  });

  it('names the quoted message by the id the session resolved', () => {
    const { message: reply } = loadFixture<{ message: MessageJson }>('reply-quoting-firm-document.json');
    const event = normalizeMessage(toMessage(reply), context({ quotedWaMessageId: 'true_447700900123@c.us_3EB0A1B2C3D4E5F60718' }));
    expect(event).toMatchObject({ kind: 'message', quoted: { waMessageId: 'true_447700900123@c.us_3EB0A1B2C3D4E5F60718' } });
  });

  it('flags a message forwarded many times', () => {
    expect(normalizeMessage(message('text-forwarded-many-times.json'), context())).toMatchObject({ forwarded: true, frequentlyForwarded: true });
  });

  it('maps a @lid sender to the phone number the session found', () => {
    const event = normalizeMessage(message('text-from-lid-sender.json'), context());
    expect(event?.client).toEqual({ waId: '447700900456', name: 'Tom Baker' });
  });

  it('keeps an unmapped @lid as a user id and never as a phone number, in a valid chat key', () => {
    const event = normalizeMessage(message('text-from-lid-sender.json'), noLids());
    expect(event?.client).toEqual({ userId: '86432162136098@lid', name: 'Tom Baker' });
    expect(() => makeChatKey(business.id, event?.client.userId ?? '')).not.toThrow();
  });

  it('makes the group the client and the writer the author', () => {
    const event = normalizeMessage(message('group-text-with-lid-author.json'), context({ chatName: 'Smith v Jones – family' }));
    expect(event).toMatchObject({
      client: { userId: '120363041234567890@g.us', name: 'Smith v Jones – family' },
      author: { id: '447700900789', name: 'Priya Patel' },
      waMessageId: 'false_120363041234567890@g.us_3A5F1C2B9D8E7F6A5B4C_212345678901234@lid',
      direction: 'inbound',
    });
    expect(event?.client.waId).toBeUndefined();
    expect(() => makeChatKey(business.id, event?.client.userId ?? '')).not.toThrow();
  });

  it('keeps the author lid when the phone behind it is unknown', () => {
    expect(normalizeMessage(message('group-text-with-lid-author.json'), noLids())?.author).toEqual({ id: '212345678901234@lid', name: 'Priya Patel' });
  });

  it('turns a message that is already revoked into the deletion of itself', () => {
    const { after } = loadFixture<{ after: MessageJson }>('revoke-for-everyone.json');
    expect(normalizeMessage(toMessage(after), context())).toMatchObject({
      kind: 'deletion',
      waMessageId: 'false_447700900123@c.us_3EB0DE1E7EDE1E7EDE1E',
      targetWaMessageId: 'false_447700900123@c.us_3EB0DE1E7EDE1E7EDE1E',
    });
  });

  it('keeps unknown types as unsupported content and skips notifications and status updates', () => {
    const text = loadFixture<MessageJson>('text-from-client.json');
    expect(contentOf(normalizeMessage(toMessage({ ...text, type: 'poll_creation' }), context()))).toEqual({ type: 'unsupported', originalType: 'poll_creation' });
    expect(normalizeMessage(toMessage({ ...text, type: 'e2e_notification' }), context())).toBeUndefined();
    expect(normalizeMessage(toMessage({ ...text, type: 'ciphertext' }), context())).toBeUndefined();
    const status = { ...text, id: { ...text.id, remote: 'status@broadcast' }, from: 'status@broadcast', isStatus: true };
    expect(normalizeMessage(toMessage(status), context())).toBeUndefined();
  });

  it('produces events that pass the core schema', () => {
    for (const name of ['text-from-client.json', 'image-with-caption-from-client.json', 'location-from-client.json', 'contact-card-from-client.json']) {
      expect(inboundEventSchema.safeParse(normalizeMessage(message(name), context())).success).toBe(true);
    }
  });
});

describe('normalizeEdit', () => {
  const { edits } = loadFixture<{ edits: Array<{ message: MessageJson; newBody: string; prevBody: string }> }>('edits-of-one-message.json');

  it('gives each edit its own event, keyed by the edit time, aimed at the original', () => {
    const events = edits.map((edit) => normalizeEdit(toMessage(edit.message), edit, context(), 0));
    expect(events).toMatchObject([
      {
        kind: 'edit',
        waMessageId: 'false_447700900123@c.us_3EB0ED17ED17ED17ED17',
        targetWaMessageId: 'false_447700900123@c.us_3EB0ED17ED17ED17ED17',
        versionKey: '1763902361234',
        timestamp: 1763902361234,
        content: { type: 'text', body: 'I can come on Wednesday.' },
      },
      { kind: 'edit', versionKey: '1763902425678', content: { type: 'text', body: 'I can come on Wednesday afternoon.' } },
    ]);
  });

  it('uses the time of the event when WhatsApp Web gave no edit time', () => {
    const first = edits[0];
    if (!first) throw new Error('fixture');
    const { latestEditSenderTimestampMs: _dropped, ...withoutTime } = first.message;
    const event = normalizeEdit(toMessage(withoutTime), first, context(), 1763909999000);
    expect(event).toMatchObject({ versionKey: '1763909999000', timestamp: 1763909999000 });
  });

  it('ignores a body that only appeared (a message decrypted late) or did not change', () => {
    const text = toMessage(loadFixture<MessageJson>('text-from-client.json'));
    expect(normalizeEdit(text, { newBody: text.body, prevBody: '' }, context(), 1)).toBeUndefined();
    expect(normalizeEdit(text, { newBody: text.body, prevBody: text.body }, context(), 1)).toBeUndefined();
  });
});

describe('normalizeRevoke', () => {
  const { after, before } = loadFixture<{ after: MessageJson; before: MessageJson }>('revoke-for-everyone.json');

  it('records a deletion for everyone that names the original message', () => {
    const event = normalizeRevoke(toMessage(after), toMessage(before), context());
    expect(event).toMatchObject({
      kind: 'deletion',
      versionKey: '',
      direction: 'inbound',
      client: { waId: '447700900123' },
      targetWaMessageId: 'false_447700900123@c.us_3EB0DE1E7EDE1E7EDE1E',
    });
  });

  it('finds the original from protocolMessageKey when the message before is missing', () => {
    const event = normalizeRevoke(toMessage(after), undefined, context());
    expect(event).toMatchObject({ kind: 'deletion', targetWaMessageId: before.id._serialized });
  });
});

describe('normalizeReaction', () => {
  const [added, removed] = loadFixture<WebReaction[]>('reactions-added-and-removed.json');

  it('records a reaction on the firm message, and its removal as a null emoji', () => {
    if (!added || !removed) throw new Error('fixture');
    expect(normalizeReaction(added, context())).toMatchObject({
      kind: 'reaction',
      client: { waId: '447700900123' },
      direction: 'inbound',
      waMessageId: 'false_447700900123@c.us_3EB0AC7A0000000000A1',
      targetWaMessageId: 'true_447700900123@c.us_3EB0A1B2C3D4E5F60718',
      emoji: '👍',
      versionKey: '1763902600',
      timestamp: 1763902600123,
    });
    expect(normalizeReaction(removed, context())).toMatchObject({ emoji: null, versionKey: '1763902700' });
  });
});

describe('normalizeAck', () => {
  const sent = toMessage(loadFixture<MessageJson>('document-sent-from-firm-phone.json'));

  it('maps acks of the firm messages to delivery statuses', () => {
    const statusOf = (ack: number) => normalizeAck(sent, ack, { business }, 1763905000000)?.status;
    expect([-1, 0, 1, 2, 3, 4].map(statusOf)).toEqual(['failed', undefined, 'sent', 'delivered', 'read', 'read']);
    expect(normalizeAck(sent, 2, { business }, 1763905000000)).toMatchObject({
      channel: 'whatsapp-web',
      waMessageId: 'true_447700900123@c.us_3EB0A1B2C3D4E5F60718',
      recipientId: '447700900123@c.us',
      timestamp: 1763905000000,
      errors: [],
    });
  });

  it('ignores acks of messages the client sent', () => {
    expect(normalizeAck(toMessage(loadFixture<MessageJson>('text-from-client.json')), 3, { business }, 1)).toBeUndefined();
  });
});
