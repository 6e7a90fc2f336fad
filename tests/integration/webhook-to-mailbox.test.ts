import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { InboundMessageInput } from '../../bridge-server/src/channels/simulator/builders.js';
import { decodeEncodedWords } from '../../bridge-server/src/sandbox/encoded-words.js';
import { useBridgeOnMailStack } from '../support/bridge.js';
import { fetchAll, threadReferences, waitForCount } from '../support/imap.js';
import { parseAll, rawHeader, sha256Hex, type ReadMail } from '../support/mail-assert.js';

/**
 * Webhook to mailbox over the real mail stack: Postfix (always_bcc to a journal address) delivering
 * over LMTP to Dovecot. Three chats with interleaved messages of every inbound type arrive as signed
 * webhooks from the simulator; the mail is read back over IMAP.
 */
describe('webhook to firm mailbox and journal', () => {
  const env = useBridgeOnMailStack();

  it('mirrors three interleaved chats of every type as one thread per chat, in the mailbox and the journal', async () => {
    const sim = env.world.simulator;
    const clients = [
      { from: '447700900123', name: 'Jane Smith' },
      { from: '33612345678', name: 'Émile Zoë Dubois', userId: 'FR.8810452209913' },
      { from: '4915112345678', name: 'Jörg "Jo" <Bauer>\r\nBcc: leak@evil.test' },
    ];
    const media = {
      image: { bytes: randomBytes(40_000), mime: 'image/jpeg' },
      audio: { bytes: randomBytes(12_000), mime: 'audio/ogg' },
      video: { bytes: randomBytes(90_000), mime: 'video/mp4' },
      document: { bytes: randomBytes(150_000), mime: 'application/pdf' },
      sticker: { bytes: randomBytes(8_000), mime: 'image/webp' },
    };
    const start = Date.UTC(2026, 10, 2, 9, 0, 0);
    const sentIds: Array<{ chat: number; waMessageId: string; type: string; timestamp: number; bytes?: Buffer }> = [];

    const script = (chat: number): Array<InboundMessageInput> => {
      const c = clients[chat]!;
      const up = (kind: keyof typeof media) => sim.addMedia(media[kind].bytes, media[kind].mime);
      const previous = () => sentIds.filter((s) => s.chat === chat).at(-1)?.waMessageId ?? '';
      return [
        { ...c, type: 'text', body: `Hello from chat ${chat}: <script>alert(1)</script> & "quotes"` },
        { ...c, type: 'image', media: up('image'), caption: 'Photo of the damage' },
        { ...c, type: 'audio', media: up('audio'), voice: true },
        { ...c, type: 'video', media: up('video'), caption: 'Walkthrough' },
        { ...c, type: 'document', media: up('document'), filename: '../../etc/Lease – 14 High St.pdf', caption: 'Signed lease' },
        { ...c, type: 'sticker', media: up('sticker'), animated: false },
        { ...c, type: 'location', latitude: 51.5072, longitude: -0.1276, placeName: 'Court', address: 'Strand, London' },
        { ...c, type: 'contacts', contacts: [{ name: { formatted_name: 'Ann Other', first_name: 'Ann' }, phones: [{ phone: '+44 7700 900999', type: 'CELL' }] }] },
        { ...c, type: 'button_reply', replyId: 'confirm-1', title: 'Yes, confirm' },
        { ...c, type: 'list_reply', replyId: 'slot-3', title: 'Friday 3pm', description: 'Office' },
        { ...c, type: 'button', text: 'Call me', payload: 'CALLBACK' },
        { ...c, type: 'reaction', messageId: previous(), emoji: '👍' },
        { ...c, type: 'unsupported', unsupportedType: 'poll' },
        { ...c, type: 'system', body: 'User changed number', systemType: 'user_changed_number', newWaId: c.from },
      ];
    };
    const scripts = clients.map((_, chat) => ({ chat, steps: script(chat) }));
    const rounds = Math.max(...scripts.map((s) => s.steps.length));
    let minute = 0;
    for (let step = 0; step < rounds; step += 1) {
      for (const { chat, steps } of scripts) {
        const input = steps[step];
        if (!input) continue;
        minute += 1;
        const timestamp = start + minute * 60_000;
        const fixed = input.type === 'reaction' ? { ...input, messageId: sentIds.filter((s) => s.chat === chat).at(-1)!.waMessageId } : input;
        const envelope = sim.inboundMessage({ ...fixed, timestamp: new Date(timestamp) });
        const waMessageId = (envelope.entry[0]!.changes[0]!.value.messages as Array<{ id: string }>)[0]!.id;
        const kind = input.type as string;
        const bytes = kind in media ? media[kind as keyof typeof media].bytes : undefined;
        sentIds.push({ chat, waMessageId, type: kind, timestamp, ...(bytes ? { bytes } : {}) });
        const answer = await sim.postWebhook(envelope);
        expect(answer.status, answer.body).toBe(200);
      }
    }

    const expected = clients.length + sentIds.length;
    await waitForCount(env.stack, 'solicitor', expected, 90_000);
    await waitForCount(env.stack, 'journal', expected, 30_000);
    const mailbox = await parseAll(await fetchAll(env.stack, 'solicitor'));
    const journal = await parseAll(await fetchAll(env.stack, 'journal'));
    expect(mailbox).toHaveLength(expected);
    expect(journal).toHaveLength(expected);

    const ids = mailbox.map((m) => m.parsed.messageId);
    expect(new Set(ids).size).toBe(expected);
    expect(new Set(journal.map((m) => m.parsed.messageId))).toEqual(new Set(ids));

    // One thread per chat: IMAP THREAD=REFERENCES over what Dovecot stored.
    const byChat = groupBy(mailbox, (m) => m.header('x-whatsapp-chat-id') ?? 'none');
    expect(byChat.size).toBe(clients.length);
    const threads = await threadReferences(env.stack, 'solicitor');
    expect(threads).toHaveLength(clients.length);
    for (const thread of threads) {
      const chatIds = new Set(thread.map((uid) => mailbox.find((m) => m.uid === uid)?.header('x-whatsapp-chat-id')));
      expect(chatIds.size).toBe(1);
      const chatId = [...chatIds][0]!;
      expect([...thread].sort((a, b) => a - b)).toEqual(byChat.get(chatId)!.map((m) => m.uid).sort((a, b) => a - b));
    }
    expect(await threadReferences(env.stack, 'journal')).toHaveLength(clients.length);

    for (const [, mails] of byChat) checkThreadHeaders(mails);

    // Every event mail: headers as designed, Date = WhatsApp time, media byte-identical.
    for (const sent of sentIds) {
      const mail = mailbox.find((m) => m.header('x-whatsapp-message-id') === sent.waMessageId);
      expect(mail, `mail for ${sent.type} in chat ${sent.chat}`).toBeDefined();
      if (!mail) continue;
      expect(mail.parsed.date?.getTime()).toBe(sent.timestamp);
      expect(mail.header('x-whatsapp-direction')).toBe('inbound');
      expect(decodeEncodedWords(mail.header('x-whatsapp-from') ?? '')).toBe(`+${clients[sent.chat]!.from}`);
      expect(mail.header('auto-submitted')).toBe('auto-generated');
      expect(rawHeader(mail.raw, 'X-Archive-Hash')).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(mail.parsed.replyTo?.value[0]?.address).toMatch(/^wa\+[a-z2-7]{26}\.[a-z2-7]{16}@wa\.firm\.test$/);
      if (sent.bytes) {
        expect(mail.parsed.attachments, sent.type).toHaveLength(1);
        expect(sha256Hex(mail.parsed.attachments[0]!.content)).toBe(sha256Hex(sent.bytes));
      }
      if (sent.type === 'document') {
        // A hostile path in the file name never survives as a path.
        const name = mail.parsed.attachments[0]!.filename!;
        expect(name).toMatch(/Lease – 14 High St\.pdf$/);
        expect(name).not.toMatch(/[/\\]|^\./);
      }
      if (sent.type === 'contacts') expect(mail.parsed.attachments.map((a) => a.contentType)).toContain('text/vcard');
      if (sent.type === 'text') {
        expect(mail.parsed.text).toContain('<script>alert(1)</script>');
        expect(String(mail.parsed.html)).not.toContain('<script>alert(1)</script>');
        expect(String(mail.parsed.html)).toContain('&lt;script&gt;');
      }
      if (sent.type === 'location') expect(mail.parsed.text).toContain('geo:51.5072,-0.1276');
      if (sent.type === 'unsupported') expect(mail.parsed.text).toContain('unsupported WhatsApp content: poll');
    }

    // The display name with CR/LF never became a header of its own.
    for (const mail of mailbox) {
      expect(mail.parsed.bcc).toBeUndefined();
      expect(mail.raw.toString('latin1')).not.toMatch(/^Bcc:/im);
    }
    const names = new Set(mailbox.map((m) => m.parsed.from?.value[0]?.name));
    expect(names).toContain('Émile Zoë Dubois (WhatsApp)');
  });
});

/** Subject fixed and copied into Thread-Topic; Thread-Index root + one block; References root first. */
function checkThreadHeaders(mails: ReadMail[]): void {
  const cover = mails.find((m) => m.header('x-whatsapp-event') === 'conversation-opened');
  expect(cover).toBeDefined();
  const root = cover!.parsed.messageId!;
  const rootIndex = Buffer.from(rawHeader(cover!.raw, 'Thread-Index')!, 'base64');
  expect(rootIndex).toHaveLength(22);
  const subject = cover!.parsed.subject;
  expect(subject).toMatch(/^WhatsApp · /);
  for (const mail of mails) {
    expect(mail.parsed.subject).toBe(subject);
    expect(decodeEncodedWords(mail.header('thread-topic') ?? '')).toBe(subject);
    if (mail === cover) continue;
    const index = Buffer.from(rawHeader(mail.raw, 'Thread-Index')!, 'base64');
    expect(index).toHaveLength(27);
    expect(index.subarray(0, 22).equals(rootIndex)).toBe(true);
    const refs = Array.isArray(mail.parsed.references) ? mail.parsed.references : [mail.parsed.references];
    expect(refs[0]).toBe(root);
    expect(refs.length).toBeLessThanOrEqual(21);
    expect(refs.at(-1)).toBe(mail.parsed.inReplyTo);
  }
  // In-Reply-To chains every event mail to the one before it in the chat, the first to the root.
  const events = mails.filter((m) => m !== cover).sort((a, b) => a.parsed.date!.getTime() - b.parsed.date!.getTime());
  expect(events[0]!.parsed.inReplyTo).toBe(root);
  for (let i = 1; i < events.length; i += 1) expect(events[i]!.parsed.inReplyTo).toBe(events[i - 1]!.parsed.messageId);
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) map.set(key(item), [...(map.get(key(item)) ?? []), item]);
  return map;
}
