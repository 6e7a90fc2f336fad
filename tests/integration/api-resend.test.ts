import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { templateBodyComponents, waitFor } from '../support/bridge.js';
import { useApiWorld, users } from '../support/api-world.js';

/**
 * Sending a failed reply again through the API (`resendOf`): the bridge copies the reply it kept,
 * file, quote and all, so nothing has to come from the browser a second time.
 */
const api = useApiWorld({ WA_BRIDGE_TEMPLATES: 'hearing_reminder:en_GB:Client name|Hearing date' });

let conversationId = 0;
let clientMessageId = '';

beforeAll(async () => {
  ({ conversationId, waMessageId: clientMessageId } = await api.clientWrites('447700900731', 'Could you send me the signed lease?', { name: 'Nia Brooks' }));
  const matter = await api.as(users.solicitorA)('POST', '/api/matters', { reference: 'BRO-1', title: 'Brooks lease', members: [users.caseHandler.upn] });
  expect((await api.as(users.admin)('POST', `/api/conversations/${conversationId}/links`, { matterId: matter.body.id })).status).toBe(201);
});

/** The conversation's replies waiting or failed, as the pane reads them. */
const pendingReplies = async () => (await api.as(users.solicitorA)('GET', `/api/conversations/${conversationId}/messages`)).body.pending as Array<{ commandId: number; state: string }>;

describe('sending a failed reply again', () => {
  const pdf = randomBytes(20_000);
  const text = 'The signed lease, as promised.';
  let failedId = 0;

  it('sends the reply as it was, file and quote included, once however often and by whomever it is asked', async () => {
    api.world.simulator.failNextSends(1, 400);
    const first = await api.as(users.solicitorA)('POST', `/api/conversations/${conversationId}/replies`, {
      text,
      files: [{ fileName: 'Lease.pdf', mimeType: 'application/pdf', contentBase64: pdf.toString('base64') }],
      quotedWaMessageId: clientMessageId,
      clientRef: 'lease-first-try',
    });
    expect(first.status).toBe(202);
    failedId = first.body.commandId as number;
    await waitFor(async () => (await pendingReplies()).some((reply) => reply.commandId === failedId && reply.state === 'failed'), 10_000, async () => JSON.stringify(await pendingReplies()));

    const sentBefore = api.world.simulator.sent.length;
    const again = await api.as(users.caseHandler)('POST', `/api/conversations/${conversationId}/replies`, { resendOf: failedId, clientRef: 'carol-presses-again' });
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ created: true });
    expect(again.body.commandId).not.toBe(failedId);
    await waitFor(() => api.world.simulator.sent.length > sentBefore, 10_000, () => 'nothing sent');
    const sent = api.world.simulator.sent.at(-1)!;
    expect(sent.type).toBe('document');
    expect(sent.body).toMatchObject({ to: '447700900731', context: { message_id: clientMessageId }, document: { caption: text, filename: 'Lease.pdf' } });
    expect(api.world.simulator.mediaById((sent.body.document as { id: string }).id)?.bytes.equals(pdf)).toBe(true);

    // Asked again, by the same person or another: the same copy, nothing more sent.
    const twice = await api.as(users.solicitorA)('POST', `/api/conversations/${conversationId}/replies`, { resendOf: failedId, clientRef: 'alice-presses-too' });
    expect(twice.body).toMatchObject({ commandId: again.body.commandId, created: false });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(api.world.simulator.sent.length).toBe(sentBefore + 1);
    // The failure stays on record beside the copy that went.
    expect((await pendingReplies()).find((reply) => reply.commandId === failedId)?.state).toBe('failed');

    const trail = await api.call(await api.token(users.compliance), 'GET', '/api/audit?action=reply');
    expect(trail.body.items).toEqual(expect.arrayContaining([expect.objectContaining({ actor: users.caseHandler.upn, details: expect.objectContaining({ commandId: again.body.commandId, resendOf: failedId, files: 1 }) })]));
  });

  it('sends a failed template again with the parameters it had', async () => {
    api.world.simulator.failNextSends(1, 400);
    const template = { name: 'hearing_reminder', language: 'en_GB', parameters: ['Nia Brooks', '3 March at 10:00'] };
    const first = await api.as(users.solicitorA)('POST', `/api/conversations/${conversationId}/replies`, { template });
    await waitFor(async () => (await pendingReplies()).some((reply) => reply.commandId === first.body.commandId && reply.state === 'failed'), 10_000, async () => JSON.stringify(await pendingReplies()));
    const sentBefore = api.world.simulator.sent.length;
    const again = await api.as(users.solicitorA)('POST', `/api/conversations/${conversationId}/replies`, { resendOf: first.body.commandId });
    expect(again.status).toBe(202);
    await waitFor(() => api.world.simulator.sent.length > sentBefore, 10_000, () => 'nothing sent');
    expect(api.world.simulator.sent.at(-1)).toMatchObject({ type: 'template', body: { template: { name: 'hearing_reminder', language: { code: 'en_GB' }, components: templateBodyComponents(...template.parameters) } } });
  });

  it('refuses to send again a reply that did not fail, one of another conversation, or one given with new content', async () => {
    const alice = api.as(users.solicitorA);
    const sentReply = await alice('POST', `/api/conversations/${conversationId}/replies`, { text: 'This one goes through.' });
    await waitFor(async () => !(await pendingReplies()).some((reply) => reply.commandId === sentReply.body.commandId), 10_000, () => 'the reply stayed pending');
    const notFailed = await alice('POST', `/api/conversations/${conversationId}/replies`, { resendOf: sentReply.body.commandId });
    expect([notFailed.status, notFailed.body.code]).toEqual([409, 'not_failed']);
    expect(notFailed.body.detail).toBe(`Reply ${sentReply.body.commandId} did not fail (it is sent): there is nothing to send again.`);

    const other = await api.clientWrites('447700900732', 'Hello', { name: 'Other Client' });
    const elsewhere = await api.as(users.admin)('POST', `/api/conversations/${other.conversationId}/replies`, { resendOf: failedId });
    expect([elsewhere.status, elsewhere.body.code]).toEqual([404, 'not_found']);

    const mixed = await alice('POST', `/api/conversations/${conversationId}/replies`, { resendOf: failedId, text: 'Something else' });
    expect(mixed.status).toBe(400);
    expect(mixed.body.errors).toEqual([{ path: 'resendOf', message: 'a reply sent again goes as it was: give nothing else with resendOf' }]);
  });
});
