import { describe, expect, it } from 'vitest';
import { countWaitingDocuments } from '../../bridge-server/src/store/document-text.js';
import { pdfOf } from '../../bridge-server/src/search/test-documents.js';
import { waitFor } from '../support/bridge.js';
import { useApiWorld, users } from '../support/api-world.js';

/** WA_BRIDGE_SEARCH_DOCUMENTS=off: documents are relayed and stored as ever, and wait unread. */
const api = useApiWorld({ WA_BRIDGE_SEARCH_DOCUMENTS: 'off' });

describe('documents not read for search', () => {
  it('relays and stores a document, searches only its name, and counts it as waiting', async () => {
    const { simulator, bridge } = api.world;
    const mailsBefore = api.catcher.mails().length;
    const pdf = await pdfOf(['Licence to assign: the landlord consents subject to the guarantor.']);
    const envelope = simulator.inboundMessage({ from: '447700900881', name: 'Olu Off', type: 'document', media: simulator.addMedia(pdf, 'application/pdf'), filename: 'licence.pdf', timestamp: new Date() });
    expect((await simulator.postWebhook(envelope)).status).toBe(200);
    await waitFor(() => api.catcher.mails().length >= mailsBefore + 2, 20_000, () => `${api.catcher.mails().length - mailsBefore} mails`);
    const relayed = api.catcher.mails().slice(mailsBefore).map((mail) => mail.raw.toString('latin1')).find((raw) => raw.includes('licence.pdf'));
    expect(relayed).toBeDefined();

    const admin = api.as(users.admin);
    const attachment = await bridge.store.db.selectFrom('attachments').select(['text_state', 'sha256']).executeTakeFirstOrThrow();
    expect(attachment).toMatchObject({ text_state: 'pending', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect((await admin('GET', '/api/search?q=guarantor')).body.items).toEqual([]);
    const byName = (await admin('GET', '/api/search?q=licence')).body.items as Array<{ documents: string[] }>;
    expect(byName).toHaveLength(1);
    expect(byName[0]!.documents).toEqual([]);

    // The admin view says documents are not read; the store counts the one waiting for when they are.
    expect((await admin('GET', '/api/admin/status')).body.documentsWaiting).toBeNull();
    expect(await countWaitingDocuments(bridge.store.db)).toBe(1);
  });
});
