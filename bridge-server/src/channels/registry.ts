import type { CloudApiSettings } from '../config/load.js';
import type { ChannelKind, NormalizedBatch } from '../core/events.js';
import type { Channel, MediaFetcher } from '../core/ports.js';
import type { ApprovedTemplate } from '../core/templates.js';
import type { Logger } from '../ops/logger.js';
import { CloudMediaFetcher } from './cloud-api/media.js';
import { CloudApiSender } from './cloud-api/send.js';
import { createCloudWebhook, type CloudWebhook } from './cloud-api/webhook.js';
import { JsonFileMarks, type CatchUpMarks } from './whatsapp-web/catch-up-marks.js';
import { WhatsAppWebChannel } from './whatsapp-web/channel.js';
import { createWebClient, type WebClient } from './whatsapp-web/client-port.js';
import { WhatsAppWebMediaFetcher } from './whatsapp-web/media.js';
import { WhatsAppWebSession } from './whatsapp-web/session.js';
import { SessionLease, type LeaseStore } from './whatsapp-web/session-lease.js';

export interface ChannelSettings {
  dataDir: string;
  mediaMaxBytes: number;
  /** Cloud API media: the longest silence of a download, in milliseconds. */
  mediaTimeoutMs: number;
  templates: ApprovedTemplate[];
  cloudApi?: CloudApiSettings;
  whatsappWeb?: { chromiumPath: string; pairPhoneNumber?: string; inlineVideo: boolean };
  /**
   * Replaces the real whatsapp-web.js client (a browser session with WhatsApp's servers, which no
   * test can reach) with a double that follows the library's documented contract.
   */
  createWebClient?: () => WebClient;
  /**
   * The store every bridge instance shares: the whatsapp-web.js session runs on the one instance
   * holding its lease, and its catch-up marks are kept there. Without it the session runs here
   * and its marks stay in the data dir.
   */
  shared?: { leases: LeaseStore; marks: CatchUpMarks; leaseTtlMs?: number };
}

/** Every configured channel's adapters, by kind: the one map the flows look channels up in. */
export interface Channels {
  senders: Partial<Record<ChannelKind, Channel>>;
  fetchers: Partial<Record<ChannelKind, MediaFetcher>>;
  /** The Cloud API webhook: its router to mount at /webhooks/whatsapp, its POST for the HTTP server. */
  cloudWebhook?: CloudWebhook;
  whatsappWeb?: WhatsAppWebSession;
  /** The lease that decides which instance runs the whatsapp-web.js session, when shared. */
  whatsappWebLease?: SessionLease;
  stop(): Promise<void>;
}

/**
 * Builds the adapters of each configured channel. Adding a channel means one block here and its
 * own folder; nothing is discovered by scanning.
 */
export function buildChannels(settings: ChannelSettings, onBatch: (batch: NormalizedBatch) => Promise<void>, logger: Logger): Channels {
  const channels: Channels = { senders: {}, fetchers: {}, stop: async () => undefined };
  const { cloudApi, whatsappWeb } = settings;
  if (cloudApi) {
    channels.senders['cloud-api'] = new CloudApiSender({ baseUrl: cloudApi.baseUrl, apiVersion: cloudApi.version, accessToken: cloudApi.accessToken, templates: settings.templates });
    channels.fetchers['cloud-api'] = new CloudMediaFetcher({ baseUrl: cloudApi.baseUrl, apiVersion: cloudApi.version, accessToken: cloudApi.accessToken, maxBytes: settings.mediaMaxBytes, timeoutMs: settings.mediaTimeoutMs });
    channels.cloudWebhook = createCloudWebhook({ appSecret: cloudApi.appSecret, verifyToken: cloudApi.verifyToken, onBatch });
  }
  if (whatsappWeb) {
    const session = new WhatsAppWebSession({
      createClient: settings.createWebClient ??
        (() =>
        createWebClient({
          dataDir: settings.dataDir,
          chromiumPath: whatsappWeb.chromiumPath,
          ...(whatsappWeb.pairPhoneNumber ? { pairPhoneNumber: whatsappWeb.pairPhoneNumber } : {}),
        })),
      onBatch,
      marks: settings.shared?.marks ?? JsonFileMarks.inDataDir(settings.dataDir),
      logger: logger.child({ component: 'whatsapp-web' }),
      print: (text) => process.stdout.write(text),
    });
    channels.whatsappWeb = session;
    channels.senders['whatsapp-web'] = new WhatsAppWebChannel({ session, inlineVideo: whatsappWeb.inlineVideo });
    channels.fetchers['whatsapp-web'] = new WhatsAppWebMediaFetcher({ session, maxBytes: settings.mediaMaxBytes });
    if (settings.shared) {
      const lease = new SessionLease({ leases: settings.shared.leases, session, logger: logger.child({ component: 'whatsapp-web-lease' }), ...(settings.shared.leaseTtlMs ? { ttlMs: settings.shared.leaseTtlMs } : {}) });
      channels.whatsappWebLease = lease;
      lease.start();
      channels.stop = () => lease.stop();
    } else {
      session.start();
      channels.stop = () => session.stop();
    }
  }
  return channels;
}
