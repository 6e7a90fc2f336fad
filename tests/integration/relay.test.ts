import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeCloudWebhook } from '../../bridge-server/src/channels/cloud-api/normalize.js';
import { parseCloudWebhook } from '../../bridge-server/src/channels/cloud-api/payload.js';
import { inboundMessage } from '../../bridge-server/src/channels/simulator/builders.js';
import { UpstreamError } from '../../bridge-server/src/core/errors.js';
import type { Job } from '../../bridge-server/src/core/records.js';
import { relayEvent } from '../../bridge-server/src/flows/relay.js';
import { DeterministicComposer } from '../../bridge-server/src/mail/compose/composer.js';
import { SmtpTransport } from '../../bridge-server/src/mail/transport/smtp.js';
import { startMailCatcher, type MailCatcher } from '../../bridge-server/src/sandbox/catcher.js';
import { FileBlobStore } from '../../bridge-server/src/store/blob-files.js';
import { getRelayByMessageId } from '../../bridge-server/src/store/relays.js';
import { startBridgeWorld, waitFor, type BridgeWorld } from '../support/bridge.js';
import { freePort } from '../support/ports.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('relay against a real SMTP server', () => {
  let catcher: MailCatcher;
  let world: BridgeWorld;

  beforeAll(async () => {
    catcher = await startMailCatcher({});
    world = await startBridgeWorld({ smtpUrl: catcher.url, mailbox: 'solicitor@firm.test' });
  });
  afterAll(async () => {
    await world?.stop();
    await catcher?.stop();
  });

  it('sends exactly the bytes it prepared before a failed first attempt', async () => {
    const { bridge } = world;
    await bridge.worker.stop();
    try {
      const batch = normalizeCloudWebhook(parseCloudWebhook(JSON.parse(JSON.stringify(inboundMessage({ from: '447700900777', name: 'Retry Client', type: 'text', body: 'prepared once' })))));
      await bridge.ingest(batch);
      const jobs = (await bridge.outbox.claim(10, Date.now(), 60_000)) as Array<Job<'mail.relay'>>;
      const cover = jobs.find((j) => j.payload.eventId === null)!;
      const blobs = new FileBlobStore(`${world.dataDir}/blobs`);
      const deps = {
        store: bridge.store,
        outbox: bridge.outbox,
        blobs,
        composer: new DeterministicComposer(),
        clock: { now: () => Date.now() },
        tenant: 'default',
        mailDomain: 'wa.firm.test',
        timeZone: 'Europe/London',
        mailbox: 'solicitor@firm.test',
        envelopeFrom: 'bridge@wa.firm.test',
        replySecret: Buffer.from('0123456789abcdef0123456789abcdef'),
      };
      const down = new SmtpTransport({ url: `smtp://127.0.0.1:${await freePort()}`, maxConnections: 1, timeoutMs: 2000 });
      const failure = await relayEvent({ ...deps, transport: down }, cover).catch((e: unknown) => e);
      await down.close();
      expect(failure).toBeInstanceOf(UpstreamError);
      expect((failure as UpstreamError).retry).toBe('transient');

      const before = catcher.mails().length;
      const up = new SmtpTransport({ url: catcher.url, maxConnections: 1 });
      const outcome = await relayEvent({ ...deps, transport: up }, cover);
      await up.close();
      expect(outcome.sent).toBe(true);
      await waitFor(() => catcher.mails().length > before, 5000, () => 'no mail caught');
      const caught = catcher.mails().at(-1)!;
      const relay = await getRelayByMessageId(bridge.store.db, outcome.mailMessageId);
      expect(relay?.state).toBe('sent');
      expect(caught.sha256).toBe(relay!.rawSha256);
      expect(sha(await blobs.get(relay!.rawSha256))).toBe(caught.sha256);

      // Once sent, a replayed job only catches up: nothing goes out again.
      const replay = await relayEvent({ ...deps, transport: up }, cover);
      expect(replay.sent).toBe(false);
      expect(catcher.mails().length).toBe(before + 1);
    } finally {
      await bridge.worker.start(false);
    }
  });

  it('retries a failed media download and relays the attachment once it arrives', async () => {
    const bytes = randomBytes(30_000);
    const media = world.simulator.addMedia(bytes, 'application/pdf');
    world.simulator.failNextMediaDownloads(2, 500);
    const envelope = world.simulator.inboundMessage({ from: '447700900888', name: 'Media Client', type: 'document', media, filename: 'statement.pdf' });
    const waMessageId = (envelope.entry[0]!.changes[0]!.value.messages as Array<{ id: string }>)[0]!.id;
    expect((await world.simulator.postWebhook(envelope)).status).toBe(200);
    await waitFor(
      () => catcher.mails().some((m) => m.raw.toString('latin1').includes(waMessageId.slice(0, 40))),
      20_000,
      async () => JSON.stringify(await world.bridge.outbox.list({ states: ['pending', 'needs_attention'] })),
    );
    const { simpleParser } = await import('mailparser');
    const mails = await Promise.all(catcher.mails().map((m) => simpleParser(m.raw)));
    const mail = mails.find((m) => m.headers.get('x-whatsapp-message-id') === waMessageId)!;
    expect(mail.attachments).toHaveLength(1);
    expect(sha(mail.attachments[0]!.content)).toBe(sha(bytes));
    const runs = await world.bridge.metrics.registry.getSingleMetricAsString('wa_bridge_outbox_job_runs_total');
    expect(runs).toMatch(/kind="media.fetch",outcome="retry"} [2-9]/);
    // The failures by reason: the media service's 500s, transient.
    const failures = await world.bridge.metrics.registry.getSingleMetricAsString('wa_bridge_outbox_job_failures_total');
    expect(failures).toMatch(/kind="media.fetch",reason="whatsapp-media_transient"} [2-9]/);
    // And the webhook's time to its answer, counted with its outcome.
    const latency = await (await fetch(`${world.bridge.url}/metrics`)).text();
    expect(latency).toMatch(/^wa_bridge_webhook_duration_seconds_count\{channel="cloud-api",outcome="accepted"\} [1-9]\d*$/m);
    expect(latency).toMatch(/^wa_bridge_webhook_duration_seconds_bucket\{le="5",channel="cloud-api",outcome="accepted"\} [1-9]\d*$/m);
  });

  it('parks a media download WhatsApp no longer has, visible as needing attention', async () => {
    const envelope = world.simulator.inboundMessage({ from: '447700900999', name: 'Gone', type: 'image', media: { id: '404404404', mimeType: 'image/jpeg' } });
    expect((await world.simulator.postWebhook(envelope)).status).toBe(200);
    await waitFor(async () => (await world.bridge.outbox.counts())['media.fetch'].needs_attention === 1, 20_000, async () => JSON.stringify(await world.bridge.outbox.counts()));
    const parked = await world.bridge.outbox.list({ states: ['needs_attention'] });
    expect(parked[0]?.lastError).toMatch(/404404404|unknown|not found|400/i);
    const metrics = await (await fetch(`${world.bridge.url}/metrics`)).text();
    expect(metrics).toMatch(/wa_bridge_outbox_jobs_needs_attention\{kind="media.fetch"\} 1/);
    expect(metrics).toMatch(/^wa_bridge_outbox_job_failures_total\{kind="media.fetch",reason="whatsapp-media_permanent"\} 1$/m);
  });
});
