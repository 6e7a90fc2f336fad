import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { InboundEvent } from '../../core/events.js';
import { BadInputError } from '../../core/errors.js';
import { normalizeCloudWebhook } from './normalize.js';
import { parseCloudWebhook } from './payload.js';

const fixtures = new URL('../../../../tests/fixtures/cloud-api/', import.meta.url);
const load = (name: string): unknown => JSON.parse(readFileSync(new URL(name, fixtures), 'utf8'));
const normalize = (name: string) => normalizeCloudWebhook(parseCloudWebhook(load(name)));

function onlyEvent(name: string): InboundEvent {
  const batch = normalize(name);
  expect(batch.statuses).toEqual([]);
  expect(batch.events).toHaveLength(1);
  const [event] = batch.events;
  if (!event) throw new Error('no event');
  return event;
}

function contentOf(event: InboundEvent) {
  if (event.kind !== 'message' && event.kind !== 'edit') throw new Error(`no content on a ${event.kind}`);
  return event.content;
}

const jane = { waId: '447700900123', userId: 'GB.1502576394655843', name: 'Jane Smith' };
const business = { id: '106540352242922', displayNumber: '442071234567' };

describe('normalizeCloudWebhook', () => {
  it('turns a text reply into a message event quoting the business message', () => {
    const event = onlyEvent('text-reply-quoting-business-message.json');
    expect(event).toMatchObject({
      channel: 'cloud-api',
      kind: 'message',
      business,
      client: jane,
      waMessageId: 'wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhggQTFCMkMzRDRFNUY2',
      versionKey: '',
      timestamp: 1706712302000,
      direction: 'inbound',
      content: { type: 'text', body: "Yes, 3pm on Friday works. I'll bring the lease." },
      quoted: { waMessageId: 'wamid.HBgMNDQ3NzAwOTAwMTIzFQIAERgSOTk4OEFBQkJDQ0RERUVGRgA=', from: '442071234567' },
    });
  });

  it('keeps the raw message, the contact it matched and the metadata', () => {
    const event = onlyEvent('text-reply-quoting-business-message.json');
    expect(event.raw).toEqual({
      message: expect.objectContaining({ id: 'wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhggQTFCMkMzRDRFNUY2', type: 'text' }),
      contact: { profile: { name: 'Jane Smith' }, wa_id: '447700900123', user_id: 'GB.1502576394655843' },
      metadata: { display_phone_number: '442071234567', phone_number_id: '106540352242922' },
    });
  });

  it('marks a frequently forwarded text as forwarded without quoting anything', () => {
    const event = onlyEvent('text-forwarded-many-times.json');
    expect(event).toMatchObject({ kind: 'message', frequentlyForwarded: true });
    expect(event.kind === 'message' && event.quoted).toBeFalsy();
  });

  it('identifies a username user by user_id when the phone number is withheld', () => {
    const event = onlyEvent('text-from-username-user-without-phone.json');
    expect(event.client).toEqual({ waId: undefined, userId: 'GB.1502576394655843', name: 'Jane S.', username: '@janesmith.law' });
  });

  it.each([
    ['image-with-caption.json', 'image', { waMediaId: '1003383421387256', mimeType: 'image/jpeg', sha256: 'SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=', caption: 'Damp patch in the bedroom' }],
    ['video.json', 'video', { waMediaId: '2104857365019283', mimeType: 'video/mp4' }],
    ['audio-voice-note.json', 'audio', { waMediaId: '3198472650183746', mimeType: 'audio/ogg; codecs=opus', voice: true }],
    ['document-with-caption.json', 'document', { waMediaId: '1234567890123456', mimeType: 'application/pdf', fileName: 'Lease - 14 High St.pdf', caption: 'Signed lease' }],
    ['sticker-animated.json', 'sticker', { waMediaId: '4410293847561029', mimeType: 'image/webp', animated: true }],
  ])('maps %s to %s content with a media reference', (fixture, type, media) => {
    expect(contentOf(onlyEvent(fixture))).toEqual({ type, media: expect.objectContaining(media) });
  });

  it('maps a location pin', () => {
    expect(contentOf(onlyEvent('location-pin.json'))).toEqual({
      type: 'location',
      latitude: 51.5072,
      longitude: -0.1276,
      name: 'Smith & Co Solicitors',
      address: '1 Example Street, London WC2N 5DU',
      url: 'https://smithandco.example',
    });
  });

  it('maps shared contact cards, naming a card that has no formatted name', () => {
    const content = contentOf(onlyEvent('contacts-shared-card.json'));
    if (content.type !== 'contacts') throw new Error(content.type);
    expect(content.contacts[0]).toEqual({
      formattedName: 'Raj Patel',
      firstName: 'Raj',
      lastName: 'Patel',
      phones: [
        { phone: '+44 7700 900456', waId: '447700900456', type: 'CELL' },
        { phone: '+44 161 496 0000', waId: undefined, type: 'WORK' },
      ],
      emails: [{ email: 'r.patel@lettings.example', type: 'WORK' }],
      urls: [{ url: 'https://lettings.example', type: 'WORK' }],
      org: { company: 'Example Lettings Ltd', department: 'Property management', title: 'Letting agent' },
      addresses: [{ street: '22 Example Road', city: 'Manchester', state: 'Greater Manchester', zip: 'M1 1AA', country: 'United Kingdom', type: 'WORK' }],
      birthday: '1980-04-12',
    });
    expect(content.contacts[1]).toMatchObject({ formattedName: 'Amy', phones: [{ phone: '+44 7700 900789' }], emails: [], urls: [], addresses: [] });
  });

  it('maps interactive button and list replies, quoting the message tapped', () => {
    const button = onlyEvent('interactive-button-reply.json');
    expect(button).toMatchObject({ content: { type: 'interactive', replyType: 'button_reply', replyId: 'confirm-appointment', title: 'Yes, confirm' }, quoted: { from: '442071234567' } });
    expect(contentOf(onlyEvent('interactive-list-reply.json'))).toEqual({
      type: 'interactive',
      replyType: 'list_reply',
      replyId: 'slot-fri-1500',
      title: 'Friday 3pm',
      description: 'With Tom, 45 minutes',
    });
  });

  it('keeps a Flow answer (nfm_reply) as the JSON text WhatsApp sent', () => {
    const content = contentOf(onlyEvent('interactive-flow-nfm-reply.json'));
    expect(content).toMatchObject({ type: 'interactive', replyType: 'nfm_reply', title: 'Sent' });
    expect(content.type === 'interactive' && JSON.parse(content.responseJson ?? '')).toEqual({ flow_token: 'intake-7f3a', matter_type: 'residential_lease', preferred_contact: 'whatsapp' });
  });

  it('maps a template quick-reply button', () => {
    expect(contentOf(onlyEvent('button-template-quick-reply.json'))).toEqual({ type: 'button', text: 'Reschedule', payload: 'RESCHEDULE' });
  });

  it('turns a reaction into a reaction event on the business message, versioned by time', () => {
    expect(onlyEvent('reaction-added.json')).toMatchObject({
      kind: 'reaction',
      targetWaMessageId: 'wamid.HBgMNDQ3NzAwOTAwMTIzFQIAERgSOTk4OEFBQkJDQ0RERUVGRgA=',
      emoji: '\u{1F44D}',
      versionKey: '1706714000',
      client: jane,
    });
  });

  it('turns a reaction without emoji into a removal (emoji null) distinct from the reaction', () => {
    const removed = onlyEvent('reaction-removed.json');
    const added = onlyEvent('reaction-added.json');
    expect(removed).toMatchObject({ kind: 'reaction', emoji: null });
    expect(removed.waMessageId).toBe(added.waMessageId);
    expect(removed.versionKey).not.toBe(added.versionKey);
  });

  it('mirrors an unsupported message with the type WhatsApp names and the error as a note', () => {
    expect(contentOf(onlyEvent('unsupported-poll.json'))).toEqual({ type: 'unsupported', originalType: 'poll', note: '131051: Message type unknown: Message type is currently not supported.' });
    expect(contentOf(onlyEvent('unsupported-without-type.json'))).toMatchObject({ type: 'unsupported', originalType: 'Message type unknown' });
  });

  it('maps a number change (system message without contacts) using from for the client', () => {
    const event = onlyEvent('system-user-changed-number.json');
    expect(event.client).toEqual({ waId: '447700900123', userId: undefined, name: undefined, username: undefined });
    expect(contentOf(event)).toEqual({
      type: 'system',
      body: 'User Jane Smith changed from 447700900123 to 447700900999',
      systemType: 'user_changed_number',
      newWaId: '447700900999',
      previousUserId: undefined,
    });
  });

  it('maps a user id change with the previous user id', () => {
    expect(contentOf(onlyEvent('system-user-changed-user-id.json'))).toMatchObject({ type: 'system', systemType: 'user_changed_user_id', previousUserId: 'GB.1502576394655843' });
  });

  it('turns an edit into an edit event carrying the new content', () => {
    expect(onlyEvent('edit-text-coexistence.json')).toMatchObject({
      kind: 'edit',
      targetWaMessageId: 'wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhggQTFCMkMzRDRFNUY2',
      content: { type: 'text', body: "Yes, 4pm on Friday works. I'll bring the lease." },
      versionKey: '1706712500',
    });
  });

  it('turns a revoke into a deletion event', () => {
    expect(onlyEvent('revoke-coexistence.json')).toMatchObject({ kind: 'deletion', targetWaMessageId: 'wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhggQTFCMkMzRDRFNUY2', client: jane });
  });

  it.each([
    ['order.json', 'order'],
    ['request-welcome.json', 'request_welcome'],
  ])('mirrors %s as unsupported content and keeps the raw object', (fixture, type) => {
    const event = onlyEvent(fixture);
    expect(contentOf(event)).toEqual({ type: 'unsupported', originalType: type });
    expect(event.raw).toMatchObject({ message: { type } });
  });

  it('maps statuses: a failed send with its error, and a read receipt', () => {
    const batch = normalize('statuses-failed-and-read.json');
    expect(batch.events).toEqual([]);
    expect(batch.statuses).toEqual([
      expect.objectContaining({
        channel: 'cloud-api',
        business,
        waMessageId: 'wamid.HBgMNDQ3NzAwOTAwMTIzFQIAERgSQUFBQkJCQ0NDREREAA==',
        status: 'failed',
        timestamp: 1706900000000,
        recipientId: '447700900123',
        callbackData: '<m.7y5btwjlwmmwxdwmnebpwgnnse@wa.firm.example>',
        errors: [{ code: 131047, title: 'Re-engagement message', details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.' }],
      }),
      expect.objectContaining({ status: 'read', recipientId: '447700900123', errors: [] }),
    ]);
  });

  it('uses recipient_user_id when recipient_id is empty and skips statuses the Cloud API does not document', () => {
    const batch = normalize('status-delivered-to-bsuid-with-pricing.json');
    expect(batch.statuses).toEqual([expect.objectContaining({ status: 'delivered', recipientId: 'GB.1502576394655843' })]);
  });

  it('normalizes a batched delivery: every entry, messages change and message, ignoring other fields', () => {
    const batch = normalize('batch-two-entries-mixed.json');
    expect(batch.events.map((e) => [e.business.id, e.client.waId, e.client.name, contentOf(e).type])).toEqual([
      ['106540352242922', '447700900123', 'Jane Smith', 'text'],
      ['106540352242922', '447700900789', 'Amy Jones', 'text'],
      ['117236490812345', '447700900456', 'Raj Patel', 'text'],
      ['128374650192837', '447700900123', 'Jane Smith', 'image'],
    ]);
    expect(batch.events[1]?.client.userId).toBe('GB.3320981746650021');
    expect(batch.statuses).toEqual([expect.objectContaining({ status: 'sent', callbackData: '<m.abc123@wa.firm.example>' })]);
  });

  it('refuses a message that names no client at all, pointing at where it is', () => {
    const payload = load('system-user-changed-number.json') as { entry: Array<{ changes: Array<{ value: { messages: Array<Record<string, unknown>> } }> }> };
    const message = payload.entry[0]?.changes[0]?.value.messages[0];
    if (message) delete message.from;
    const error = (() => {
      try {
        normalizeCloudWebhook(parseCloudWebhook(payload));
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(BadInputError);
    expect(error).toMatchObject({ code: 'bad_payload', details: [{ path: 'entry[0].changes[0].value.messages[0]', message: expect.stringContaining('client') }] });
  });
});
