import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../core/errors.js';
import { parseCloudWebhook } from './payload.js';

const envelope = (value: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  object: 'whatsapp_business_account',
  entry: [{ id: '102290129340398', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '442071234567', phone_number_id: '106540352242922' }, ...value } }] }],
  ...extra,
});
const text = (overrides: Record<string, unknown> = {}) => ({ from: '447700900123', id: 'wamid.A1', timestamp: '1706712302', type: 'text', text: { body: 'hi' }, ...overrides });

function issuesOf(payload: unknown): Array<{ path: string; message: string }> {
  try {
    parseCloudWebhook(payload);
  } catch (error) {
    if (error instanceof BadInputError) return error.details;
    throw error;
  }
  throw new Error('expected the payload to be refused');
}

describe('parseCloudWebhook', () => {
  it('accepts fields Meta adds later, at every level, and keeps them', () => {
    const parsed = parseCloudWebhook(envelope({ messages: [text({ new_field: { x: 1 } })], future: true }, { rollout: 'v99' }));
    const value = parsed.entry[0]?.changes[0]?.value;
    expect(value?.messages?.[0]).toMatchObject({ new_field: { x: 1 } });
    expect(value).toMatchObject({ future: true });
  });

  it('parses a message of a type it does not know', () => {
    const parsed = parseCloudWebhook(envelope({ messages: [text({ type: 'poll_vote', text: undefined, poll_vote: { option: 2 } })] }));
    expect(parsed.entry[0]?.changes[0]?.value?.messages?.[0]?.type).toBe('poll_vote');
  });

  it('does not validate the value of changes other than messages', () => {
    const payload = { object: 'whatsapp_business_account', entry: [{ id: '1', changes: [{ field: 'message_template_status_update', value: { event: 'APPROVED' } }] }] };
    expect(parseCloudWebhook(payload).entry[0]?.changes[0]).toEqual({ field: 'message_template_status_update', value: undefined });
  });

  it('reports every issue with its path and without quoting the input', () => {
    const issues = issuesOf(
      envelope({
        messages: [text({ timestamp: '17067x' }), text({ id: '', type: 'image', text: undefined })],
        statuses: [{ id: 'wamid.S', status: 'read', timestamp: 1706712302 }],
      }),
    );
    expect(issues).toEqual([
      { path: 'entry[0].changes[0].value.messages[0].timestamp', message: 'expected unix seconds as a string of digits' },
      { path: 'entry[0].changes[0].value.messages[1].id', message: expect.any(String) },
      { path: 'entry[0].changes[0].value.messages[1].image', message: 'a message of type "image" needs its "image" object' },
      { path: 'entry[0].changes[0].value.statuses[0].timestamp', message: expect.stringContaining('expected string') },
    ]);
    expect(JSON.stringify(issues)).not.toContain('17067x');
  });

  it('insists on the documented envelope', () => {
    expect(issuesOf({ object: 'page', entry: [{ id: '1', changes: [{ field: 'messages', value: { metadata: {} } }] }] }).map((i) => i.path)).toEqual([
      'object',
      'entry[0].changes[0].value.messaging_product',
      'entry[0].changes[0].value.metadata.phone_number_id',
    ]);
    expect(issuesOf('[]')).toEqual([{ path: '(root)', message: expect.any(String) }]);
  });

  it('refuses nesting deeper than any payload and numbers beyond a double, naming where', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 5000; i += 1) deep = [deep];
    const nested = issuesOf(envelope({ messages: [text({ extra: deep })] }));
    expect(nested).toEqual([{ path: expect.stringMatching(/^entry\[0\]\.changes\[0\]\.value\.messages\[0\]\.extra(\[0\])+$/), message: 'objects and arrays nested more than 100 levels deep' }]);
    expect(issuesOf(envelope({ messages: [text({ score: Infinity })] }))).toEqual([{ path: 'entry[0].changes[0].value.messages[0].score', message: 'a number beyond the range of a double' }]);
  });

  it('refuses ids that cannot be part of a chat key', () => {
    const issues = issuesOf({ ...envelope({ messages: [text({ from: '4477\u0000' })] }) });
    expect(issues.map((i) => i.path)).toEqual(['entry[0].changes[0].value.messages[0].from']);
    const business = envelope({ messages: [text()] });
    (business.entry[0]!.changes[0]!.value.metadata as { phone_number_id: string }).phone_number_id = '1065 4035';
    expect(issuesOf(business).map((i) => i.path)).toEqual(['entry[0].changes[0].value.metadata.phone_number_id']);
  });

  it('replaces lone surrogates, which UTF-8 cannot store, and keeps pairs', () => {
    const parsed = parseCloudWebhook(envelope({ messages: [text({ id: 'wamid.\ud83d', text: { body: 'cut \ude00 whole \ud83d\ude00' } })] }));
    const message = parsed.entry[0]?.changes[0]?.value?.messages?.[0];
    expect(message?.id).toBe('wamid.\ufffd');
    expect(message?.text?.body).toBe('cut \ufffd whole \ud83d\ude00');
  });
});
