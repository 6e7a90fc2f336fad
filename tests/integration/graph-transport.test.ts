import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamError } from '../../bridge-server/src/core/errors.js';
import { GraphMailTransport, type GraphMailOptions } from '../../bridge-server/src/mail/transport/graph.js';
import { graphScope, startGraphMailDouble, type GraphMailDouble } from '../support/graph-mail-double.js';

const tenantId = '00000000-0000-4000-8000-0000000a11ce';
const clientId = 'mail-route-client-id';
const clientSecret = 'mail-route-client-secret';
const mailbox = 'wa-bridge@firm.test';
const recipient = 'whatsapp@firm.test';

let graph: GraphMailDouble;

beforeAll(async () => {
  graph = await startGraphMailDouble({ tenantId, clientId, clientSecret, mailboxes: [mailbox] });
});
afterAll(() => graph?.stop());
afterEach(() => {
  graph.refuseAllTokens = false;
});

function transport(overrides: Partial<GraphMailOptions> = {}): GraphMailTransport {
  return new GraphMailTransport({
    tenantId,
    clientId,
    clientSecret,
    mailbox,
    graphBaseUrl: graph.url,
    authorityHost: 'https://login.microsoftonline.com',
    maxConcurrent: 4,
    backoffBaseMs: 50,
    networkClient: graph.networkClient,
    ...overrides,
  });
}

let counter = 0;
function mail(extraHeaders = '', body = 'Hello from WhatsApp.\r\n'): { raw: Buffer; messageId: string } {
  counter += 1;
  const messageId = `m.test${counter}@wa.firm.test`;
  const raw = Buffer.from(
    [
      'From: "Jane Smith (WhatsApp)" <wa+token@wa.firm.test>',
      `To: ${recipient}`,
      'Reply-To: wa+token@wa.firm.test',
      `Message-ID: <${messageId}>`,
      'In-Reply-To: <chat.root@wa.firm.test>',
      'References: <chat.root@wa.firm.test>',
      'Thread-Index: AdpUS7BsiqoraJKeSMdn/7PUVHJAWgAACPBr',
      'X-WhatsApp-Chat-Id: k4jl643oygg3vdtnryakgv42hk',
      'X-Archive-Hash: sha256:abab',
      'Subject: WhatsApp test',
      ...(extraHeaders ? [extraHeaders] : []),
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      body,
    ].join('\r\n'),
  );
  return { raw, messageId };
}

const envelope = { from: 'bridge@wa.firm.test', to: [recipient] };
const acceptedIds = () => graph.accepted.map((a) => /^Message-ID: <([^>]+)>/m.exec(a.mime.toString('latin1'))?.[1]);
const requestsFor = (messageCount: number) => graph.requests.slice(-messageCount);

async function failure(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UpstreamError);
  return error as UpstreamError;
}

describe('the Graph mail transport', () => {
  it('sends the MIME base64-encoded to the mailbox sendMail with a client-credentials token', async () => {
    const sender = transport();
    const { raw, messageId } = mail();
    const result = await sender.send(raw, envelope);

    expect(result.response).toMatch(/^202 Accepted \(request-id [0-9a-f-]{36}\)$/);
    const accepted = graph.accepted.at(-1)!;
    expect(accepted.mailbox).toBe(mailbox);
    expect(acceptedIds().at(-1)).toBe(messageId);
    // Every byte but the address in From arrives as composed.
    const expected = raw.toString('latin1').replace('<wa+token@wa.firm.test>', `<${mailbox}>`);
    expect(accepted.mime.toString('latin1')).toBe(expected);
    expect(graph.tokenRequests.at(-1)).toMatchObject({ grant_type: 'client_credentials', client_id: clientId, scope: graphScope });
  });

  it('waits out a 429 with Retry-After, then sends once', async () => {
    const sender = transport();
    const { messageId, raw } = mail();
    const before = graph.requests.length;
    graph.failNext({ status: 429, code: 'ApplicationThrottled', message: 'Application is over its MailboxConcurrency limit.', retryAfter: 1 });
    await sender.send(raw, envelope);

    expect(graph.requests.slice(before).map((r) => r.status)).toEqual([429, 202]);
    expect(acceptedIds().filter((id) => id === messageId)).toHaveLength(1);
  });

  it('retries a 503 and a 504 with backoff, then sends once', async () => {
    const sender = transport();
    const { messageId, raw } = mail();
    const before = graph.requests.length;
    graph.failNext(
      { status: 503, code: 'serviceNotAvailable', message: 'The service is not available. Try the request again after a delay.' },
      { status: 504, code: 'UnknownError', message: '' },
    );
    await sender.send(raw, envelope);

    expect(graph.requests.slice(before).map((r) => r.status)).toEqual([503, 504, 202]);
    expect(acceptedIds().filter((id) => id === messageId)).toHaveLength(1);
  });

  it('gives up after its tries with a transient error that names Graph’s answer', async () => {
    const sender = transport({ maxAttempts: 2 });
    const throttled = { status: 503, code: 'serviceNotAvailable', message: 'The service is not available.' };
    graph.failNext(throttled, throttled);
    const before = graph.accepted.length;
    const error = await failure(sender.send(mail().raw, envelope));

    expect(error.retry).toBe('transient');
    expect(error.message).toContain('503 serviceNotAvailable: The service is not available.');
    expect(graph.accepted.length).toBe(before);
  });

  it('leaves a Retry-After longer than it may wait to the outbox, without calling Graph again meanwhile', async () => {
    const sender = transport({ maxWaitMs: 500 });
    graph.failNext({ status: 429, code: 'ApplicationThrottled', message: 'Application is over its MailboxConcurrency limit.', retryAfter: 5 });
    const before = graph.requests.length;
    const first = await failure(sender.send(mail().raw, envelope));
    const second = await failure(sender.send(mail().raw, envelope));

    expect(first.retry).toBe('transient');
    expect(second.retry).toBe('transient');
    expect(second.message).toMatch(/hold mail from wa-bridge@firm\.test for \d s more/);
    expect(graph.requests.length - before).toBe(1);
  });

  it('gets a fresh token once after a 401 and sends with it', async () => {
    const sender = transport();
    await sender.send(mail().raw, envelope);
    const tokensBefore = graph.tokenRequests.length;
    graph.revokeTokens();
    const { messageId, raw } = mail();
    await sender.send(raw, envelope);

    const [refused, sent] = requestsFor(2);
    expect(refused).toMatchObject({ status: 401, code: 'InvalidAuthenticationToken' });
    expect(sent!.status).toBe(202);
    expect(sent!.token).not.toBe(refused!.token);
    expect(graph.tokenRequests.length - tokensBefore).toBe(1);
    expect(acceptedIds().at(-1)).toBe(messageId);
  });

  it('treats a second 401, after the fresh token, as permanent', async () => {
    const sender = transport();
    graph.refuseAllTokens = true;
    const before = graph.requests.length;
    const error = await failure(sender.send(mail().raw, envelope));

    expect(error.retry).toBe('permanent');
    expect(error.message).toContain('401 InvalidAuthenticationToken');
    expect(error.message).toContain('Mail.Send');
    expect(graph.requests.length - before).toBe(2);
  });

  it('refuses a 400 permanently with Graph’s error code and message', async () => {
    const sender = transport();
    graph.failNext({ status: 400, code: 'ErrorInvalidRecipients', message: 'At least one recipient is not valid., Recipient whatsapp@firm.test is not resolved.' });
    const before = graph.requests.length;
    const error = await failure(sender.send(mail().raw, envelope));

    expect(error.retry).toBe('permanent');
    expect(error.upstreamStatus).toBe(400);
    expect(error.message).toMatch(/^Microsoft Graph answered 400 ErrorInvalidRecipients: At least one recipient is not valid\., Recipient whatsapp@firm\.test is not resolved\. \(request-id [0-9a-f-]{36}\); the mail was not sent$/);
    expect(graph.requests.length - before).toBe(1);
  });

  it('reports an unknown sending mailbox as Graph names it', async () => {
    const sender = transport({ mailbox: 'nobody@firm.test' });
    const error = await failure(sender.send(mail().raw, envelope));
    expect(error.retry).toBe('permanent');
    expect(error.message).toContain("404 ErrorInvalidUser: The requested user 'nobody@firm.test' is invalid.");
  });

  it('refuses a mail over the 4 MB request limit before calling Graph, saying which route takes it', async () => {
    const sender = transport();
    const big = mail('', 'x'.repeat(3_200_000));
    const before = graph.requests.length;
    const error = await failure(sender.send(big.raw, envelope));

    expect(error.retry).toBe('permanent');
    expect(error.message).toContain('at most 4 MB per request');
    expect(error.message).toContain('WA_BRIDGE_MAIL_TRANSPORT=smtp');
    expect(graph.requests.length).toBe(before);
  });

  it('sends a mail just under the limit', async () => {
    const sender = transport();
    const { messageId, raw } = mail('', 'y'.repeat(3_000_000));
    expect(raw.toString('base64').length).toBeLessThanOrEqual(4 * 1024 * 1024);
    await sender.send(raw, envelope);
    expect(acceptedIds().at(-1)).toBe(messageId);
  });

  it('classifies Graph’s own 413 as permanent with the size limit in the text', async () => {
    const sender = transport({ maxRequestBytes: 8 * 1024 * 1024 });
    const error = await failure(sender.send(mail('', 'z'.repeat(3_200_000)).raw, envelope));
    expect(error.retry).toBe('permanent');
    expect(error.message).toContain('413 invalidRequest');
    expect(error.message).toContain("4 MB request limit");
  });

  it('never has more than four requests in flight for the mailbox', async () => {
    const slow = await startGraphMailDouble({ tenantId, clientId, clientSecret, mailboxes: [mailbox], processingMs: 60 });
    try {
      const sender = transport({ graphBaseUrl: slow.url, networkClient: slow.networkClient });
      const mails = Array.from({ length: 16 }, () => mail());
      await Promise.all(mails.map((m) => sender.send(m.raw, envelope)));

      expect(slow.maxInFlight).toBeLessThanOrEqual(4);
      expect(slow.maxInFlight).toBeGreaterThan(1);
      expect(slow.tokenRequests).toHaveLength(1);
      expect(slow.requests.every((r) => r.status === 202)).toBe(true);
      expect(slow.accepted.map((a) => /^Message-ID: <([^>]+)>/m.exec(a.mime.toString('latin1'))?.[1]).sort()).toEqual(mails.map((m) => m.messageId).sort());
    } finally {
      await slow.stop();
    }
  });

  it('is throttled by the double when it would send more at once than Outlook allows', async () => {
    // The control for the test above: the double does enforce the limit it is checked against.
    const slow = await startGraphMailDouble({ tenantId, clientId, clientSecret, mailboxes: [mailbox], processingMs: 200 });
    try {
      const sender = transport({ graphBaseUrl: slow.url, networkClient: slow.networkClient, maxConcurrent: 8 });
      await sender.send(mail().raw, envelope);
      await Promise.all(Array.from({ length: 8 }, () => sender.send(mail().raw, envelope)));
      expect(slow.requests.some((r) => r.status === 429 && r.code === 'ApplicationThrottled')).toBe(true);
      expect(slow.accepted).toHaveLength(9);
    } finally {
      await slow.stop();
    }
  });

  it('reports readiness from whether a token can be had', async () => {
    await expect(transport().checkReady()).resolves.toBeUndefined();
    const error = await failure(transport({ clientSecret: 'wrong' }).checkReady());
    expect(error.retry).toBe('transient');
    expect(error.message).toContain('AADSTS7000215');
    expect(error.message).not.toContain('wrong');
  });
});
