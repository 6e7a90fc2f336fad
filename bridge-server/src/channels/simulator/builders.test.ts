import { describe, expect, it } from 'vitest';
import { normalizeCloudWebhook } from '../cloud-api/normalize.js';
import { parseCloudWebhook } from '../cloud-api/payload.js';
import { batch, inboundMessage, statusUpdate, type InboundContent } from './builders.js';
import { runSimulatorCommand } from './command.js';

const media = { id: '1003383421387256', mimeType: 'image/jpeg', sha256: 'SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=' };
const sender = { from: '447700900123', name: 'Jane Smith', userId: 'GB.1502576394655843', timestamp: 1706712302 };

describe('simulator builders', () => {
  it.each<[InboundContent, Record<string, unknown>]>([
    [{ type: 'text', body: 'hello' }, { kind: 'message', content: { type: 'text', body: 'hello' } }],
    [{ type: 'image', media, caption: 'photo' }, { content: { type: 'image', media: { waMediaId: media.id, caption: 'photo', sha256: media.sha256 } } }],
    [{ type: 'video', media: { ...media, mimeType: 'video/mp4' } }, { content: { type: 'video', media: { mimeType: 'video/mp4' } } }],
    [{ type: 'audio', media: { ...media, mimeType: 'audio/ogg' }, voice: true }, { content: { type: 'audio', media: { voice: true } } }],
    [{ type: 'document', media: { ...media, mimeType: 'application/pdf' }, filename: 'a.pdf' }, { content: { type: 'document', media: { fileName: 'a.pdf' } } }],
    [{ type: 'sticker', media: { ...media, mimeType: 'image/webp' }, animated: true }, { content: { type: 'sticker', media: { animated: true } } }],
    [{ type: 'location', latitude: 51.5, longitude: -0.12, placeName: 'Office' }, { content: { type: 'location', latitude: 51.5, name: 'Office' } }],
    [{ type: 'contacts', contacts: [{ name: { formatted_name: 'Raj Patel' }, phones: [{ phone: '+44 7700 900456' }] }] }, { content: { type: 'contacts', contacts: [{ formattedName: 'Raj Patel' }] } }],
    [{ type: 'button_reply', replyId: 'yes', title: 'Yes' }, { content: { type: 'interactive', replyType: 'button_reply', replyId: 'yes' } }],
    [{ type: 'list_reply', replyId: 'fri', title: 'Friday', description: '3pm' }, { content: { type: 'interactive', replyType: 'list_reply', description: '3pm' } }],
    [{ type: 'nfm_reply', responseJson: '{"a":1}' }, { content: { type: 'interactive', replyType: 'nfm_reply', responseJson: '{"a":1}' } }],
    [{ type: 'button', text: 'Reschedule' }, { content: { type: 'button', text: 'Reschedule', payload: 'Reschedule' } }],
    [{ type: 'reaction', messageId: 'wamid.T', emoji: '\u{1F44D}' }, { kind: 'reaction', targetWaMessageId: 'wamid.T', emoji: '\u{1F44D}' }],
    [{ type: 'reaction', messageId: 'wamid.T' }, { kind: 'reaction', emoji: null }],
    [{ type: 'unsupported', unsupportedType: 'poll' }, { content: { type: 'unsupported', originalType: 'poll' } }],
    [{ type: 'system', body: 'User changed number', systemType: 'user_changed_number', newWaId: '447700900999' }, { content: { type: 'system', newWaId: '447700900999' } }],
    [{ type: 'edit', originalMessageId: 'wamid.O', body: 'fixed' }, { kind: 'edit', targetWaMessageId: 'wamid.O', content: { type: 'text', body: 'fixed' } }],
    [{ type: 'revoke', originalMessageId: 'wamid.O' }, { kind: 'deletion', targetWaMessageId: 'wamid.O' }],
  ])('builds a documented %j webhook', (content, expected) => {
    const { events } = normalizeCloudWebhook(parseCloudWebhook(inboundMessage({ ...sender, ...content })));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ timestamp: 1706712302000, client: { waId: '447700900123', userId: 'GB.1502576394655843' }, ...expected });
  });

  it("names a location's place apart from the sender's profile", () => {
    const { events } = normalizeCloudWebhook(parseCloudWebhook(inboundMessage({ ...sender, type: 'location', latitude: 51.5, longitude: -0.12, placeName: 'Office' })));
    expect(events[0]).toMatchObject({ client: { name: 'Jane Smith' }, content: { type: 'location', name: 'Office' } });
  });

  it('merges envelopes into one batched delivery, one contact per person', () => {
    const merged = batch(
      inboundMessage({ ...sender, type: 'text', body: 'one' }),
      inboundMessage({ ...sender, type: 'text', body: 'two' }),
      inboundMessage({ from: '447700900789', name: 'Amy Jones', type: 'text', body: 'three' }),
      statusUpdate({ id: 'wamid.S', status: 'delivered', recipientId: '447700900123' }),
    );
    expect(merged.entry).toHaveLength(1);
    expect(merged.entry[0]?.changes).toHaveLength(1);
    const value = merged.entry[0]?.changes[0]?.value as { contacts: unknown[]; messages: unknown[]; statuses: unknown[] };
    expect([value.contacts.length, value.messages.length, value.statuses.length]).toEqual([2, 3, 1]);
    const normalized = normalizeCloudWebhook(parseCloudWebhook(merged));
    expect(normalized.events.map((e) => e.client.name)).toEqual(['Jane Smith', 'Jane Smith', 'Amy Jones']);
    expect(normalized.statuses).toEqual([expect.objectContaining({ status: 'delivered' })]);
  });
});

describe('runSimulatorCommand', () => {
  it('starts the simulator and prints what the bridge needs, labelled as a simulator', async () => {
    const lines: string[] = [];
    const simulator = await runSimulatorCommand({ port: 0, webhookUrl: 'http://127.0.0.1:9/webhooks/whatsapp', print: (line) => lines.push(line) });
    try {
      const output = lines.join('\n');
      expect(output).toContain('simulator');
      expect(output).toContain(`WA_BRIDGE_CLOUD_API_BASE_URL=${simulator.url}`);
      expect(output).toContain(simulator.appSecret);
      expect(output).toContain(simulator.accessToken);
      expect((await fetch(`${simulator.url}/`)).status).toBe(200);
    } finally {
      await simulator.stop();
    }
  });
});
