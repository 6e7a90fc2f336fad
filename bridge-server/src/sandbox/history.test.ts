import { describe, expect, it } from 'vitest';
import type { Content, Direction } from '../core/events.js';
import type { DeliveryStatus } from '../core/records.js';
import type { HistoryMessage } from '../store/sandbox-history.js';
import { earlierClientMessage, earlierFirmMessage } from './history.js';

let nextId = 1;

/** A stored message event of the sandbox's chat with +44 7700 900123, as the store reads it back. */
function stored(direction: Direction, content: Content, statuses: DeliveryStatus[] = []): HistoryMessage {
  const id = nextId++;
  const waMessageId = `wamid.H${id}`;
  return {
    clientWaId: '447700900123',
    statuses,
    record: {
      id,
      conversationId: 1,
      seq: id,
      channel: 'cloud-api',
      waMessageId,
      kind: 'message',
      versionKey: '',
      direction,
      timestamp: 1_770_000_000_000 + id,
      receivedAt: 1_770_000_000_500 + id,
      chainHash: 'ab'.repeat(32),
      event: {
        kind: 'message',
        channel: 'cloud-api',
        business: { id: '100000000000001' },
        client: { waId: '447700900123', name: 'Jane Smith' },
        waMessageId,
        versionKey: '',
        timestamp: 1_770_000_000_000 + id,
        direction,
        content,
        raw: {},
      },
    },
  };
}

const pdf = { waMediaId: 'media-1', mimeType: 'application/pdf', fileName: 'authority.pdf', caption: 'Signed.' };

describe("the sandbox phone's earlier messages", () => {
  it("shows the client's text, caption and file name, with the time the bridge stored it", () => {
    const text = stored('inbound', { type: 'text', body: 'Hello' });
    expect(earlierClientMessage(text)).toEqual({ waMessageId: text.record.waMessageId, text: 'Hello', sentAt: text.record.receivedAt });
    const file = stored('inbound', { type: 'document', media: pdf });
    expect(earlierClientMessage(file)).toMatchObject({ text: 'Signed.', fileName: 'authority.pdf' });
    // WhatsApp gives a photo no file name: the phone shows the picture, with its caption when it has one.
    const photo = stored('inbound', { type: 'image', media: { waMediaId: 'media-2', mimeType: 'image/jpeg' } });
    expect(earlierClientMessage(photo)).toEqual({ waMessageId: photo.record.waMessageId, picture: true, sentAt: photo.record.receivedAt });
    expect(earlierClientMessage(stored('inbound', { type: 'sticker', media: { waMediaId: 'media-3', mimeType: 'image/webp' } }))).toMatchObject({ picture: true });
    // A photo the bridge never downloaded before the restart cannot be shown: the phone says so instead.
    const lost = earlierClientMessage({ ...stored('inbound', { type: 'image', media: { waMediaId: 'media-5', mimeType: 'image/jpeg', caption: 'Gone' } }), pictureMissing: true });
    expect(lost).toMatchObject({ text: 'Gone', fileName: '(photo not downloaded before the restart)' });
    expect(lost).not.toHaveProperty('picture');
    expect(earlierClientMessage(stored('inbound', { type: 'video', media: { waMediaId: 'media-4', mimeType: 'video/mp4', caption: 'The leak' } }))).toEqual(expect.objectContaining({ text: 'The leak', fileName: '(video)' }));
    expect(earlierClientMessage(stored('inbound', { type: 'video', media: { waMediaId: 'media-4', mimeType: 'video/mp4' } }))).not.toHaveProperty('picture');
    expect(earlierClientMessage(stored('inbound', { type: 'location', latitude: 51.5, longitude: -0.1 }))).toBeUndefined();
    expect(earlierClientMessage(stored('outbound', { type: 'text', body: 'From the firm' }))).toBeUndefined();
  });

  it("shows the firm's messages as the Cloud API sent them, with the furthest state WhatsApp reported", () => {
    const reply = stored('outbound', { type: 'text', body: 'Completion is on Friday.' }, ['read', 'sent', 'delivered']);
    expect(earlierFirmMessage(reply)).toEqual({ waMessageId: reply.record.waMessageId, type: 'text', text: 'Completion is on Friday.', sentAt: reply.record.timestamp, state: 'read' });
    expect(earlierFirmMessage(stored('outbound', { type: 'document', media: pdf }, ['delivered', 'failed']))).toMatchObject({ type: 'document', text: 'Signed.', fileName: 'authority.pdf', state: 'delivered' });
    const plan = earlierFirmMessage(stored('outbound', { type: 'image', media: { ...pdf, mimeType: 'image/png', fileName: 'plan.png' } }));
    expect(plan).toMatchObject({ type: 'image', text: 'Signed.', picture: true, state: 'accepted' });
    expect(plan).not.toHaveProperty('fileName');
    // An audio message goes without its caption.
    expect(earlierFirmMessage(stored('outbound', { type: 'audio', media: { ...pdf, mimeType: 'audio/ogg' } }, ['sent']))).toEqual(expect.not.objectContaining({ text: expect.anything() }));
    expect(earlierFirmMessage(stored('inbound', { type: 'text', body: 'From the client' }))).toBeUndefined();
  });
});
