import { messageItemSchema } from '@wa-bridge/shared/api/conversations';
import { describe, expect, it } from 'vitest';
import type { Content } from '../core/events.js';
import type { ConversationRecord, EventRecord } from '../core/records.js';
import { contentText, toMessageItem, toWindowState, type MessageContext } from './views.js';

const hour = 3600_000;
const templates = [{ name: 'case_update', language: 'en_GB', parameterLabels: ['Matter reference'] }];

describe('24-hour window state', () => {
  it('is open until 24 hours after the last client message, then closed', () => {
    const last = Date.UTC(2026, 10, 25, 9, 0, 0);
    expect(toWindowState('cloud-api', last, last + 23 * hour, templates)).toEqual({
      state: 'open',
      closesAt: '2026-11-26T09:00:00.000Z',
      lastInboundAt: '2026-11-25T09:00:00.000Z',
      templates,
    });
    expect(toWindowState('cloud-api', last, last + 24 * hour, templates).state).toBe('closed');
  });

  it('is closed before the client ever wrote, and does not apply to whatsapp-web', () => {
    expect(toWindowState('cloud-api', null, 0, [])).toMatchObject({ state: 'closed', closesAt: null });
    expect(toWindowState('whatsapp-web', null, 0, []).state).toBe('not_applicable');
  });
});

describe('bubble text', () => {
  it('shows bodies and captions as sent, and other content as a readable line', () => {
    expect(contentText({ type: 'text', body: 'Hello 👋' })).toBe('Hello 👋');
    expect(contentText({ type: 'image', media: { waMediaId: 'm', mimeType: 'image/jpeg', caption: 'the wall' } })).toBe('the wall');
    expect(contentText({ type: 'image', media: { waMediaId: 'm', mimeType: 'image/jpeg' } })).toBeNull();
    expect(contentText({ type: 'location', latitude: 51.5, longitude: -0.12, name: 'Office' })).toContain('Office');
  });
});

describe('shared locations and contacts', () => {
  const sentAt = Date.UTC(2026, 10, 25, 9, 0, 0);
  const conversation = { id: 7, channel: 'cloud-api', clientName: 'Jane Smith', clientWaId: '447700900123' } as ConversationRecord;
  const context: MessageContext = { conversation, attachments: new Map(), quoted: new Map(), edited: new Set(), deleted: new Set(), delivery: new Map() };

  /** The item the API sends for a client's message with this content, checked against the contract. */
  function itemFor(content: Content) {
    const event: EventRecord = {
      id: 41,
      conversationId: conversation.id,
      seq: 3,
      channel: 'cloud-api',
      waMessageId: 'wamid.shared',
      kind: 'message',
      versionKey: '',
      direction: 'inbound',
      timestamp: sentAt,
      event: { kind: 'message', channel: 'cloud-api', business: { id: '1065' }, client: { waId: '447700900123', name: 'Jane Smith' }, waMessageId: 'wamid.shared', versionKey: '', timestamp: sentAt, direction: 'inbound', raw: {}, content },
      chainHash: '',
      receivedAt: sentAt,
    };
    return messageItemSchema.parse(toMessageItem(event, context));
  }

  it('gives a location its name, address, the client\'s link as sent and the map link the mail uses', () => {
    const item = itemFor({ type: 'location', latitude: 51.5033, longitude: -0.1196, name: 'Riverside Chambers', address: '1 Temple Place, London WC2R 3BD', url: 'https://example.com/directions' });
    expect(item.location).toEqual({
      latitude: 51.5033,
      longitude: -0.1196,
      name: 'Riverside Chambers',
      address: '1 Temple Place, London WC2R 3BD',
      url: 'https://example.com/directions',
      mapUrl: 'https://www.google.com/maps?q=51.5033,-0.1196',
    });
    expect(item.contacts).toBeNull();
    // The text stays for the consumers that read it, with the same map link.
    expect(item.text).toContain('Map: https://www.google.com/maps?q=51.5033,-0.1196');
  });

  it('gives a bare pin nulls for what was not sent, empty fields included', () => {
    const item = itemFor({ type: 'location', latitude: -33.8568, longitude: 151.2153, name: '', url: '' });
    expect(item.location).toEqual({ latitude: -33.8568, longitude: 151.2153, name: null, address: null, url: null, mapUrl: 'https://www.google.com/maps?q=-33.8568,151.2153' });
  });

  it('gives each contact its name, organisation, phones, e-mail and the link it carries', () => {
    const item = itemFor({
      type: 'contacts',
      contacts: [
        {
          formattedName: 'Raj Patel',
          phones: [
            { phone: '+44 7700 900456', waId: '447700900456', type: 'CELL' },
            { phone: '020 7946 0018', type: 'WORK' },
          ],
          emails: [{ email: 'raj.patel@example.co.uk', type: 'WORK' }],
          urls: [{ url: 'https://example.com/raj', type: 'WORK' }],
          org: { company: 'Patel Surveyors', title: 'Chartered surveyor' },
          addresses: [],
        },
        { formattedName: '', phones: [{ phone: '+44 7700 900789' }], emails: [], urls: [], addresses: [] },
      ],
    });
    expect(item.location).toBeNull();
    expect(item.contacts).toEqual([
      {
        name: 'Raj Patel',
        organisation: 'Chartered surveyor, Patel Surveyors',
        phones: [
          { phone: '+44 7700 900456', type: 'CELL' },
          { phone: '020 7946 0018', type: 'WORK' },
        ],
        emails: [{ email: 'raj.patel@example.co.uk', type: 'WORK' }],
        urls: ['https://example.com/raj'],
      },
      { name: 'Unnamed contact', organisation: null, phones: [{ phone: '+44 7700 900789', type: null }], emails: [], urls: [] },
    ]);
  });

  it('leaves both null for other content', () => {
    expect(itemFor({ type: 'text', body: 'See you at ten' })).toMatchObject({ location: null, contacts: null, text: 'See you at ten' });
  });
});
