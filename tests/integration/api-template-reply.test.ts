import { beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/bridge.js';
import { useApiWorld, users } from '../support/api-world.js';

const api = useApiWorld({ WA_BRIDGE_TEMPLATES: 'appointment_reminder:en_GB,hearing_reminder:en_GB:Client name|Hearing date' });

let conversationId = 0;

beforeAll(async () => {
  // The client last wrote two days ago: only a template may go.
  ({ conversationId } = await api.clientWrites('447700900801', 'Any news on the hearing?', { timestamp: new Date(Date.now() - 48 * 3600_000) }));
});

describe('template replies through the API', () => {
  const replies = () => `/api/conversations/${conversationId}/replies`;

  /** What the bridge has stored and queued, and what WhatsApp has been sent. */
  const traces = async () => ({
    commands: (await api.world.bridge.store.db.selectFrom('outbound_commands').select('id').execute()).length,
    jobs: (await api.world.bridge.store.db.selectFrom('outbox_jobs').select('id').where('kind', '=', 'wa.send').execute()).length,
    sent: api.world.simulator.sent.length,
  });

  it('offers each template with the labels of its parameters', async () => {
    const window = await api.as(users.admin)('GET', `/api/conversations/${conversationId}/window`);
    expect(window.body).toMatchObject({ state: 'closed' });
    expect(window.body.templates).toEqual([
      { name: 'appointment_reminder', language: 'en_GB', parameterLabels: [] },
      { name: 'hearing_reminder', language: 'en_GB', parameterLabels: ['Client name', 'Hearing date'] },
    ]);
    const refused = await api.as(users.admin)('POST', replies(), { text: 'Sorry for the delay' });
    expect(refused.status).toBe(409);
    expect(refused.body.templates).toEqual(window.body.templates);
  });

  it('refuses a template that is not configured, a wrong number of parameters and an empty one, storing and sending nothing', async () => {
    const admin = api.as(users.admin);
    const before = await traces();

    const unknown = await admin('POST', replies(), { template: { name: 'payment_due', language: 'en_GB', parameters: [] }, clientRef: 'template-unknown-1' });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ code: 'unknown_template' });
    expect(unknown.body.detail).toBe(
      'payment_due (en_GB) is not an approved template of this bridge, so WhatsApp would refuse it. The approved templates are: appointment_reminder (en_GB), hearing_reminder (en_GB).',
    );
    // The right name in another language is another template.
    const otherLanguage = await admin('POST', replies(), { template: { name: 'hearing_reminder', language: 'en_US', parameters: ['Jane Smith', '14 May'] } });
    expect(otherLanguage.status).toBe(400);
    expect(otherLanguage.body.code).toBe('unknown_template');

    const tooFew = await admin('POST', replies(), { template: { name: 'hearing_reminder', language: 'en_GB', parameters: ['Jane Smith'] } });
    expect(tooFew.status).toBe(400);
    expect(tooFew.body).toMatchObject({ code: 'template_parameters', errors: [{ path: 'template.parameters', message: 'expected 2, got 1' }] });
    expect(tooFew.body.detail).toBe('hearing_reminder (en_GB) takes 2 parameters, in this order: Client name, Hearing date; 1 was given.');

    const tooMany = await admin('POST', replies(), { template: { name: 'appointment_reminder', language: 'en_GB', parameters: ['Jane Smith'] } });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.detail).toBe('appointment_reminder (en_GB) takes no parameters; 1 was given.');

    const blank = await admin('POST', replies(), { template: { name: 'hearing_reminder', language: 'en_GB', parameters: ['Jane Smith', '  '] } });
    expect(blank.status).toBe(400);
    expect(blank.body).toMatchObject({ code: 'template_parameters', errors: [{ path: 'template.parameters.1', message: 'Hearing date: empty' }] });
    expect(blank.body.detail).toBe('hearing_reminder (en_GB) takes 2 parameters, in this order: Client name, Hearing date. Every parameter needs some text; empty: Hearing date.');

    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await traces()).toEqual(before);
  });

  it('sends a template with its parameters to WhatsApp as body parameters, in order', async () => {
    const sentBefore = api.world.simulator.sent.length;
    const accepted = await api.as(users.admin)('POST', replies(), {
      template: { name: 'hearing_reminder', language: 'en_GB', parameters: ['Jane Smith', 'Tuesday 14 May, 10:00'] },
      clientRef: 'template-hearing-1',
    });
    expect(accepted.status).toBe(202);
    await waitFor(() => api.world.simulator.sent.length > sentBefore, 10_000, () => 'template not sent');
    const sent = api.world.simulator.sent.at(-1)!;
    expect(sent.type).toBe('template');
    expect(sent.body).toMatchObject({ to: '447700900801', type: 'template' });
    expect((sent.body as { template: unknown }).template).toEqual({
      name: 'hearing_reminder',
      language: { code: 'en_GB' },
      components: [{ type: 'body', parameters: [{ type: 'text', text: 'Jane Smith' }, { type: 'text', text: 'Tuesday 14 May, 10:00' }] }],
    });

    // A template without variables goes without components.
    const plainBefore = api.world.simulator.sent.length;
    expect((await api.as(users.admin)('POST', replies(), { template: { name: 'appointment_reminder', language: 'en_GB', parameters: [] } })).status).toBe(202);
    await waitFor(() => api.world.simulator.sent.length > plainBefore, 10_000, () => 'template not sent');
    expect((api.world.simulator.sent.at(-1)!.body as { template: unknown }).template).toEqual({ name: 'appointment_reminder', language: { code: 'en_GB' } });
  });
});
