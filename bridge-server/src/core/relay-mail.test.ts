import { describe, expect, it } from 'vitest';
import type { Content } from './events.js';
import type { OutgoingMail } from './mail.js';
import type { EventRecord } from './records.js';
import { buildRelayMail, recordMailId, type RelayMailInput } from './relay-mail.js';
import {
  makeAttachmentRecord,
  makeConversationRecord,
  makeDeletionRecord,
  makeEditRecord,
  makeMessageRecord,
  makeReactionRecord,
  makeTextRecord,
  testDomain,
  testOpenedAt,
  testTenant,
} from './test-records.js';
import { chatGuid, eventMailId, rootMailId } from './threading.js';

const conversation = makeConversationRecord();
const replyAddress = `wa+${conversation.chatToken}.mac0mac0mac0mac0@${testDomain}`;

function relay(event: EventRecord | null, extra: Partial<RelayMailInput> = {}): OutgoingMail {
  return buildRelayMail({
    tenant: testTenant,
    mailDomain: testDomain,
    mailbox: 'whatsapp@firm.example',
    replyAddress,
    conversation,
    event,
    previous: [],
    attachments: [],
    archiveHash: event === null ? '' : event.chainHash,
    timeZone: 'Europe/London',
    ...extra,
  });
}

const headerOf = (mail: OutgoingMail, key: string): string | undefined => mail.headers.find((h) => h.key === key)?.value;
const hostile = '<script>alert("x")</script>';

describe('buildRelayMail: threading headers', () => {
  const first = makeTextRecord('Hello, I need help with my lease.');
  const second = makeTextRecord('Are you there?');

  it('gives the first event its deterministic Message-ID, replying to the root', () => {
    const mail = relay(first);
    const root = rootMailId(conversation.chatToken, testDomain);
    expect(mail.messageId).toBe(eventMailId(testTenant, 'cloud-api', first.waMessageId, 'message', '', testDomain));
    expect(mail.inReplyTo).toBe(root);
    expect(mail.references).toEqual([root]);
  });

  it('replies to the previous event and references the root plus earlier events', () => {
    const mail = relay(second, { previous: [first] });
    const firstId = recordMailId(testTenant, first, testDomain);
    expect(mail.inReplyTo).toBe(firstId);
    expect(mail.references).toEqual([rootMailId(conversation.chatToken, testDomain), firstId]);
  });

  it('keeps the subject fixed and copies it into Thread-Topic', () => {
    expect(relay(first).subject).toBe(conversation.subject);
    expect(relay(second).subject).toBe(conversation.subject);
    expect(headerOf(relay(first), 'Thread-Topic')).toBe(conversation.subject);
  });

  it('writes root block plus one child block: header time openedAt, child time the event time', () => {
    const bytes = Buffer.from(headerOf(relay(second), 'Thread-Index') ?? '', 'base64');
    expect(bytes).toHaveLength(27);
    expect(bytes.subarray(6, 22).equals(chatGuid(conversation.chatToken))).toBe(true);
    const headerTicks = BigInt(bytes.readUIntBE(0, 6)) << 16n;
    expect(headerTicks / 10_000n - 11_644_473_600_000n).toBe(BigInt(testOpenedAt) - 1n); // truncation drops < 7 ms
    const delta = BigInt(bytes.readUInt32BE(22)) << 18n;
    const expected = (BigInt(second.timestamp) * 10_000n + 116_444_736_000_000_000n - headerTicks) >> 18n << 18n;
    expect(delta).toBe(expected);
  });

  it('dates the mail with the WhatsApp time and addresses it from the chat reply address', () => {
    const mail = relay(first);
    expect(mail.date.getTime()).toBe(first.timestamp);
    expect(mail.from).toEqual({ name: 'Jane Smith (WhatsApp)', address: replyAddress });
    expect(mail.replyTo).toEqual({ address: replyAddress });
    expect(mail.to).toEqual([{ address: 'whatsapp@firm.example' }]);
  });

  it('carries the machine-readable headers', () => {
    const mail = relay(first);
    expect(headerOf(mail, 'X-WhatsApp-Chat-Id')).toBe(conversation.chatToken);
    expect(headerOf(mail, 'X-WhatsApp-Message-Id')).toBe(first.waMessageId);
    expect(headerOf(mail, 'X-WhatsApp-Direction')).toBe('inbound');
    expect(headerOf(mail, 'X-WhatsApp-From')).toBe('+447700900123');
    expect(headerOf(mail, 'X-WhatsApp-Event')).toBe('message');
    expect(headerOf(mail, 'X-WhatsApp-Type')).toBe('text');
    expect(headerOf(mail, 'X-Archive-Hash')).toBe(`sha256:${first.chainHash}`);
    expect(headerOf(mail, 'Auto-Submitted')).toBe('auto-generated');
  });

  it('is deterministic: the same stored facts give the same mail', () => {
    expect(relay(second, { previous: [first] })).toEqual(relay(second, { previous: [first] }));
  });

  it('names an outbound author "via WhatsApp" and gives the firm number as sender', () => {
    const outbound = makeTextRecord('We have received your documents.', { direction: 'outbound', author: { id: 'alice', name: 'Alice Partner' } });
    const mail = relay(outbound);
    expect(mail.from.name).toBe('Alice Partner via WhatsApp');
    expect(headerOf(mail, 'X-WhatsApp-Direction')).toBe('outbound');
    expect(headerOf(mail, 'X-WhatsApp-From')).toBe('+442079460000');
    expect(relay(makeTextRecord('x', { direction: 'outbound' })).from.name).toBe('Firm via WhatsApp');
  });

  it('keeps an Arabic name and the number beside it in their order, and lets the text run right to left', () => {
    const arabicConversation = makeConversationRecord({ clientName: 'عمر الهاشمي', clientWaId: '971501112233' });
    const mail = relay(makeTextRecord('هل استلمت المستندات الثلاثة؟ أرسلتها يوم 12/11.'), { conversation: arabicConversation });
    expect(mail.from.name).toBe('عمر الهاشمي\u200E (WhatsApp)');
    expect(mail.html).toContain('<p dir="auto" style="margin:0 0 10px 0;">هل استلمت المستندات الثلاثة؟ أرسلتها يوم 12/11.</p>');
    expect(mail.text).toContain('عمر الهاشمي\u200E (+971 50 111 2233)');
  });

  it('cleans a display name with CR/LF so it cannot become a header line', () => {
    const hostileConversation = makeConversationRecord({ clientName: 'Jane\r\nBcc: evil@x.test' });
    const mail = relay(first, { conversation: hostileConversation });
    expect(mail.from.name).toBe('Jane Bcc: evil@x.test (WhatsApp)');
    for (const value of [mail.subject, mail.from.name ?? '', ...mail.headers.map((h) => h.value)]) expect(value).not.toMatch(/[\r\n]/);
  });
});

describe('buildRelayMail: the cover mail', () => {
  const mail = relay(null);

  it('carries the root Message-ID, the root Thread-Index block and the opening time', () => {
    expect(mail.messageId).toBe(rootMailId(conversation.chatToken, testDomain));
    expect(Buffer.from(headerOf(mail, 'Thread-Index') ?? '', 'base64')).toHaveLength(22);
    expect(mail.date.getTime()).toBe(testOpenedAt);
    expect(mail.inReplyTo).toBeUndefined();
    expect(mail.references).toEqual([]);
    expect(headerOf(mail, 'X-Archive-Hash')).toBeUndefined();
    expect(mail.subject).toBe(conversation.subject);
  });

  it('explains the thread: whose chat, which firm number, and that replies go to WhatsApp', () => {
    expect(mail.text).toContain('WhatsApp chat with Jane Smith (+44 7700 900123)');
    expect(mail.text).toContain('+44 20 7946 0000');
    expect(mail.text).toContain('Replying to any email in this thread sends your reply to the client on WhatsApp');
    expect(mail.html).toContain('Replying to any email in this thread');
  });
});

describe('buildRelayMail: content types', () => {
  const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
  const media = (mimeType: string, fileName: string | null = null) => [{ record: makeAttachmentRecord({ waMediaId: 'media-1', mimeType, fileName }), content: jpeg }];

  it('renders text', () => {
    const mail = relay(makeTextRecord('Line one\nLine two'));
    expect(mail.text).toContain('Line one\nLine two');
    expect(mail.html).toContain('Line one<br>\nLine two');
  });

  it('attaches an image with a generated safe name and shows the caption', () => {
    const record = makeMessageRecord({ type: 'image', media: { waMediaId: 'media-1', mimeType: 'image/jpeg', caption: 'The damp wall' } });
    const mail = relay(record, { attachments: media('image/jpeg') });
    expect(mail.attachments).toHaveLength(1);
    expect(mail.attachments[0]?.fileName).toMatch(/^image-[a-z2-7]{8}\.jpg$/);
    expect(mail.attachments[0]?.content.equals(jpeg)).toBe(true);
    expect(mail.text).toContain('The damp wall');
    expect(headerOf(mail, 'X-WhatsApp-Type')).toBe('image');
  });

  it('says a voice note is one', () => {
    const record = makeMessageRecord({ type: 'audio', media: { waMediaId: 'media-1', mimeType: 'audio/ogg; codecs=opus', voice: true } });
    const mail = relay(record, { attachments: media('audio/ogg; codecs=opus') });
    expect(mail.text).toContain('[Voice note]');
    expect(mail.attachments[0]?.fileName).toMatch(/^audio-[a-z2-7]{8}\.ogg$/);
    expect(mail.attachments[0]?.contentType).toBe('audio/ogg');
  });

  it('keeps a document name, made safe', () => {
    const record = makeMessageRecord({ type: 'document', media: { waMediaId: 'media-1', mimeType: 'application/pdf', fileName: '../../Lease\r\n.pdf' } });
    const mail = relay(record, { attachments: media('application/pdf', '../../Lease\r\n.pdf') });
    const name = mail.attachments[0]?.fileName ?? '';
    expect(name).not.toMatch(/[/\\\r\n]/);
    expect(name.startsWith('.')).toBe(false);
    expect(name.endsWith('.pdf')).toBe(true);
  });

  it('renders video and sticker, and says when the file is not in the archive', () => {
    const video = relay(makeMessageRecord({ type: 'video', media: { waMediaId: 'v', mimeType: 'video/mp4' } }), { attachments: media('video/mp4') });
    expect(video.attachments[0]?.fileName).toMatch(/^video-[a-z2-7]{8}\.mp4$/);
    const sticker = relay(makeMessageRecord({ type: 'sticker', media: { waMediaId: 's', mimeType: 'image/webp' } }));
    expect(sticker.text).toContain('[Sticker]');
    expect(sticker.text).toContain('not in the archive');
    expect(sticker.attachments).toEqual([]);
  });

  it('renders a location with a map link and a geo: URI', () => {
    const mail = relay(makeMessageRecord({ type: 'location', latitude: 51.5014, longitude: -0.1419, name: 'Buckingham Palace', address: 'London SW1A 1AA' }));
    expect(mail.text).toContain('https://www.google.com/maps?q=51.5014,-0.1419');
    expect(mail.text).toContain('geo:51.5014,-0.1419');
    expect(mail.html).toContain('href="https://www.google.com/maps?q=51.5014,-0.1419"');
    expect(mail.html).toContain('href="geo:51.5014,-0.1419"');
    expect(mail.text).toContain('Buckingham Palace');
  });

  it('renders contacts with one .vcf per contact', () => {
    const contacts: Content = {
      type: 'contacts',
      contacts: [
        { formattedName: 'John Roe', phones: [{ phone: '+44 7700 900456' }], emails: [], urls: [], addresses: [] },
        { formattedName: 'John Roe', phones: [], emails: [{ email: 'john@example.com' }], urls: [], addresses: [] },
      ],
    };
    const mail = relay(makeMessageRecord(contacts));
    expect(mail.attachments.map((a) => a.fileName)).toEqual(['John Roe.vcf', 'John Roe (2).vcf']);
    expect(mail.attachments[0]?.contentType).toBe('text/vcard; charset=utf-8');
    expect(mail.attachments[0]?.content.toString('utf8')).toContain('TEL:+44 7700 900456');
    expect(mail.text).toContain('+44 7700 900456');
  });

  it('renders interactive replies: button and list choices with ids, flow answers as JSON', () => {
    const button = relay(makeMessageRecord({ type: 'interactive', replyType: 'button_reply', replyId: 'yes-1', title: 'Yes, call me' }));
    expect(button.text).toContain('[Button reply]');
    expect(button.text).toContain('Yes, call me');
    expect(button.text).toContain('yes-1');
    const list = relay(makeMessageRecord({ type: 'interactive', replyType: 'list_reply', replyId: 'slot-3', title: 'Tuesday 10:00', description: 'Office' }));
    expect(list.text).toContain('[List reply]');
    expect(list.text).toContain('Tuesday 10:00');
    const flow = relay(makeMessageRecord({ type: 'interactive', replyType: 'nfm_reply', responseJson: '{"name":"Jane","consent":true}' }));
    expect(flow.text).toContain('"consent": true');
    expect(flow.html).toContain('&quot;consent&quot;: true');
  });

  it('renders template button presses, unsupported content and system notices', () => {
    expect(relay(makeMessageRecord({ type: 'button', text: 'Book a call', payload: 'BOOK' })).text).toContain('[Button] Book a call');
    expect(relay(makeMessageRecord({ type: 'unsupported', originalType: 'poll' })).text).toContain('[unsupported WhatsApp content: poll]');
    const system = relay(makeMessageRecord({ type: 'system', body: 'Jane changed their phone number', newWaId: '447700900999' }));
    expect(system.text).toContain('Jane changed their phone number');
    expect(system.text).toContain('+44 7700 900999');
  });
});

describe('buildRelayMail: replies, edits, deletions and reactions', () => {
  const original = makeTextRecord('The rent is £900 a month.');

  it('shows a quoted WhatsApp reply as a quote when the quoted message is stored', () => {
    const reply = makeTextRecord('Is that right?', { quoted: original.waMessageId });
    const mail = relay(reply, { related: original });
    expect(mail.text).toContain('> The rent is £900 a month.');
    expect(mail.html).toContain('<blockquote');
    expect(mail.html).toContain('The rent is £900 a month.');
  });

  it('says so when the quoted message is not in the archive', () => {
    const mail = relay(makeTextRecord('And this?', { quoted: 'wamid.UNKNOWN' }));
    expect(mail.text).toContain('(quoted message not in the archive)');
    expect(mail.html).toContain('(quoted message not in the archive)');
  });

  it('renders an edit with the new content and the original, under a new Message-ID', () => {
    const edit = makeEditRecord(original, { type: 'text', body: 'The rent is £950 a month.' });
    const mail = relay(edit, { related: original, previous: [original] });
    expect(mail.text).toContain('edited a message');
    expect(mail.text).toContain('The rent is £950 a month.');
    expect(mail.text).toContain('> The rent is £900 a month.');
    expect(mail.messageId).not.toBe(relay(original).messageId);
    expect(headerOf(mail, 'X-WhatsApp-Event')).toBe('edit');
    expect(headerOf(mail, 'X-WhatsApp-Target-Message-Id')).toBe(original.waMessageId);
  });

  it('renders a deletion for everyone, keeping the original content visible', () => {
    const mail = relay(makeDeletionRecord(original), { related: original });
    expect(mail.text).toContain('The client deleted this message for everyone.');
    expect(mail.text).toContain('> The rent is £900 a month.');
    expect(relay(makeDeletionRecord(original)).text).toContain('(the original message is not in the archive)');
  });

  it('renders a reaction and its removal, each with its own Message-ID', () => {
    const added = relay(makeReactionRecord(original, '👍'), { related: original });
    expect(added.text).toContain('reacted 👍 to:');
    expect(added.text).toContain('> The rent is £900 a month.');
    const removed = relay(makeReactionRecord(original, null), { related: original });
    expect(removed.text).toContain('removed their reaction');
    expect(new Set([added.messageId, removed.messageId, relay(original).messageId]).size).toBe(3);
  });
});

describe("buildRelayMail: times in the firm's zone", () => {
  const summer = Date.parse('2026-07-01T12:00:05Z');

  it('shows the event time as a wall time with its offset, in the configured zone', () => {
    const record = makeTextRecord('See you at two.', { timestamp: summer });
    const london = relay(record);
    expect(london.text).toContain('2026-07-01 13:00:05 GMT+01:00');
    expect(london.html).toContain('2026-07-01 13:00:05 GMT+01:00');
    expect(london.text).not.toContain('2026-07-01T12:00:05Z');
    const sydney = relay(record, { timeZone: 'Australia/Sydney' });
    expect(sydney.text).toContain('2026-07-01 22:00:05 GMT+10:00');
    // The Date header stays the instant itself, whatever the zone.
    expect(sydney.date.getTime()).toBe(summer);
  });

  it("shows the cover mail's opening time and a quoted message's time in the same zone", () => {
    expect(relay(null, { timeZone: 'America/New_York' }).text).toContain('2024-01-31 08:45:02 GMT-05:00');
    const original = makeTextRecord('The rent is £900 a month.', { timestamp: summer });
    const reply = makeTextRecord('Is that right?', { quoted: original.waMessageId, timestamp: summer + 60_000 });
    const mail = relay(reply, { related: original });
    expect(mail.text).toContain('(client, 2026-07-01 13:00:05 GMT+01:00)');
    expect(mail.html).toContain('client, 2026-07-01 13:00:05 GMT+01:00');
  });
});

describe('buildRelayMail: HTML escaping', () => {
  const contents: Content[] = [
    { type: 'text', body: hostile },
    { type: 'image', media: { waMediaId: 'm', mimeType: 'image/jpeg', caption: hostile } },
    { type: 'document', media: { waMediaId: 'm', mimeType: 'application/pdf', fileName: `${hostile}.pdf` } },
    { type: 'location', latitude: 1, longitude: 2, name: hostile, address: hostile, url: `javascript:${hostile}` },
    { type: 'contacts', contacts: [{ formattedName: hostile, phones: [{ phone: hostile }], emails: [], urls: [], addresses: [] }] },
    { type: 'interactive', replyType: hostile, title: hostile, replyId: hostile, responseJson: `{"a":"${'<script>'}"}` },
    { type: 'button', text: hostile, payload: hostile },
    { type: 'unsupported', originalType: hostile, note: hostile },
    { type: 'system', body: hostile },
  ];

  it.each(contents.map((c) => [c.type, c] as const))('never lets <script> from a %s message into the HTML unescaped', (_type, content) => {
    const mail = relay(makeMessageRecord(content, { clientName: hostile }), {
      conversation: makeConversationRecord({ clientName: hostile }),
      related: makeTextRecord(hostile),
    });
    expect(mail.html).not.toMatch(/<script/i);
    expect(mail.html).not.toMatch(/href="javascript:/i);
    expect(mail.html).toContain('&lt;script&gt;');
  });

  it('escapes quoted, edited and reacted-to text as well', () => {
    const target = makeTextRecord(hostile);
    for (const record of [makeTextRecord('x', { quoted: target.waMessageId }), makeEditRecord(target, { type: 'text', body: hostile }), makeDeletionRecord(target), makeReactionRecord(target, hostile)]) {
      expect(relay(record, { related: target }).html).not.toMatch(/<script/i);
    }
  });
});
