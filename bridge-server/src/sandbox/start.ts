import type { Router } from 'express';
import type { SentRequest, Simulator } from '../channels/simulator/server.js';
import { mediaTypes } from '../core/events.js';
import type { Logger } from '../ops/logger.js';
import { asPicture, type SandboxHistory, type SandboxHistoryScope, type SandboxPicture } from '../store/sandbox-history.js';
import type { MailCatcher } from './catcher.js';
import type { ClientMessage, PhoneMessage, SandboxClient, SandboxPhone, SandboxSolicitor } from './routes.js';

export interface Sandbox {
  simulator: Simulator;
  catcher: MailCatcher;
  /** The pretend firm mailbox the relayed mail is addressed to. */
  mailbox: string;
  router: Router;
  /** The pretend firm's domain; its addresses may reply to clients in the sandbox. */
  firmDomain: string;
  /** Points the simulator's webhooks at the bridge once it listens, and notes the reply intake's port. */
  connect(webhookUrl: string, replyIntakePort?: number): Promise<void>;
  /**
   * Shows on the page what the sandbox relayed and sent before this start, which the store kept
   * while the catcher and the simulator forgot it: the mails as they were relayed (with the
   * envelope the bridge relays with) and both sides of each phone's chat. Once, before the
   * bridge relays anything; `read` is given the scope to read.
   */
  recall(read: (scope: Omit<SandboxHistoryScope, 'tenant'>) => Promise<SandboxHistory>, envelope: { from: string; to: string[] }): Promise<void>;
  stop(): Promise<void>;
}

export const SANDBOX_MAILBOX = 'solicitor@firm.sandbox.test';

/** The client's messages the sandbox remembers for the phone pane, newest kept; it lives in memory. */
const clientSentLimit = 2000;
/** How many of the newest relayed mails the page shows. */
const mailsKept = 500;

/**
 * The sandbox: a Cloud API simulator (test double of Meta) that posts signed webhooks into this
 * bridge, and a local SMTP catcher that receives the relayed mail, shown at /sandbox.
 */
export async function startSandbox(options: {
  logger: Logger;
  appSecret: string;
  accessToken: string;
  autoStatuses?: boolean;
  /** Reads the archived picture of a message in the conversations of the simulator's number (`businessId`). */
  pictures: (businessId: string, waMessageId: string) => Promise<SandboxPicture | undefined>;
}): Promise<Sandbox> {
  // Loaded on use: the simulator, the mail catcher and its parser are for the sandbox alone.
  const [{ startSimulator }, { startMailCatcher }, { createSandboxRouter }, { ReplyIntakeDownError, sendSolicitorReply }, { earlierClientMessage, earlierFirmMessage, phoneFile }] = await Promise.all([
    import('../channels/simulator/server.js'),
    import('./catcher.js'),
    import('./routes.js'),
    import('./solicitor.js'),
    import('./history.js'),
  ]);
  const simulator = await startSimulator({
    appSecret: options.appSecret,
    accessToken: options.accessToken,
    autoStatuses: options.autoStatuses ?? true,
    onAutoStatusError: (error) => options.logger.warn({ err: error }, 'sandbox: a simulated status webhook could not be posted'),
  });
  const catcher = await startMailCatcher({ keep: mailsKept });
  /** Where the page's "reply as the solicitor" mails go (set by connect()). */
  const replyIntake: { port: number | undefined } = { port: undefined };
  /** What the page's client sent and the bridge stored, so the phone still shows it after a reload. */
  const clientSent: Array<ClientMessage & { from: string }> = [];
  /** The simulator's media id of each photo the page's client sent since this start, by wamid. */
  const clientPhotos = new Map<string, string>();
  /** What the firm sent before this start (see recall); the simulator holds only what it took since. */
  const firmSentBefore: Array<PhoneMessage & { to: string }> = [];
  let recalled = false;
  const client: SandboxClient = {
    async sendAsClient(input) {
      const sender = { from: input.phone.replace(/\D/g, ''), name: input.name };
      const media = input.file ? mediaContent(input.file.mimeType, simulator.addMedia(input.file.bytes, input.file.mimeType), input.file.fileName, input.text) : undefined;
      const envelope = media ? simulator.inboundMessage({ ...sender, ...media }) : simulator.inboundMessage({ ...sender, type: 'text', body: input.text ?? '' });
      const answer = await simulator.postWebhook(envelope);
      if (answer.status !== 200) throw new Error(`the bridge answered the simulated webhook with ${answer.status}`);
      const message = envelope.entry[0]?.changes[0]?.value.messages as Array<{ id: string }> | undefined;
      const waMessageId = message?.[0]?.id ?? '';
      // A photo goes without its name, as on WhatsApp: the phone shows the picture.
      const shown = media?.type === 'image' ? { picture: true as const } : input.file ? { fileName: input.file.fileName } : {};
      if (media?.type === 'image') clientPhotos.set(waMessageId, media.media.id);
      clientSent.push({ from: sender.from, waMessageId, ...(input.text ? { text: input.text } : {}), ...shown, sentAt: Date.now() });
      if (clientSent.length > clientSentLimit) {
        for (const dropped of clientSent.splice(0, clientSent.length - clientSentLimit)) clientPhotos.delete(dropped.waMessageId);
      }
      return { waMessageId };
    },
  };
  const solicitor: SandboxSolicitor = {
    reply(input) {
      if (replyIntake.port === undefined) throw new ReplyIntakeDownError("The bridge's reply intake is not running, so the solicitor cannot reply.");
      return sendSolicitorReply(replyIntake.port, input);
    },
  };
  const phone: SandboxPhone = {
    messages: (to) => {
      const digits = to.replace(/\D/g, '');
      const before = firmSentBefore.filter((sent) => sent.to === digits).map(({ to: _to, ...message }) => message);
      const since = simulator.sent.filter((sent) => sent.to.replace(/\D/g, '') === digits).map((sent) => phoneMessageOf(sent, simulator.deliveryState(sent.waMessageId), phoneFile));
      return [...before, ...since];
    },
    sentFrom: (from) => {
      const digits = from.replace(/\D/g, '');
      return clientSent.filter((sent) => sent.from === digits).map(({ from: _from, ...message }) => message);
    },
    // A picture sent since this start is still in the simulator's memory, so the phone shows it at
    // once (the bridge archives a client's photo only once it has downloaded it); an earlier one
    // comes from the archive.
    picture: async (waMessageId) => {
      const mediaId = clientPhotos.get(waMessageId) ?? sentMediaId(simulator.sent.find((sent) => sent.waMessageId === waMessageId));
      const held = mediaId === undefined ? undefined : simulator.mediaById(mediaId);
      return held ? asPicture(held.bytes, held.mimeType) : options.pictures(simulator.business.phoneNumberId, waMessageId);
    },
  };
  const router = createSandboxRouter({ catcher, client, solicitor, phone, firmNumber: `+${simulator.business.displayPhoneNumber}`, mailbox: SANDBOX_MAILBOX });
  options.logger.info({ simulator: simulator.url, catcher: catcher.url }, 'sandbox started: simulator and mail catcher on loopback');
  return {
    simulator,
    catcher,
    mailbox: SANDBOX_MAILBOX,
    firmDomain: SANDBOX_MAILBOX.split('@')[1]!,
    router,
    async connect(webhookUrl, replyIntakePort) {
      simulator.webhookUrl = webhookUrl;
      replyIntake.port = replyIntakePort;
    },
    async recall(read, envelope) {
      if (recalled) throw new Error('the sandbox recalls its history once, at start');
      recalled = true;
      const history = await read({ businessId: simulator.business.phoneNumberId, mails: mailsKept, messages: clientSentLimit });
      catcher.takeEarlier(history.mails.map((mail) => ({ raw: mail.raw, receivedAt: mail.sentAt, envelope: mail.to ? { from: envelope.from, to: mail.to } : envelope })));
      const fromClient: typeof clientSent = [];
      for (const message of history.messages) {
        const clientMessage = earlierClientMessage(message);
        if (clientMessage) fromClient.push({ from: message.clientWaId, ...clientMessage });
        const firmMessage = earlierFirmMessage(message);
        if (firmMessage) firmSentBefore.push({ to: message.clientWaId, ...firmMessage });
      }
      // Ahead of anything the page sent meanwhile, within the same limit.
      clientSent.unshift(...fromClient);
      if (clientSent.length > clientSentLimit) clientSent.splice(0, clientSent.length - clientSentLimit);
      if (history.mails.length + history.messages.length > 0) options.logger.info({ mails: history.mails.length, messages: history.messages.length }, 'sandbox: mail and messages from before this start are shown again');
    },
    async stop() {
      await simulator.stop();
      await catcher.stop();
    },
  };
}

/** The parts of a Cloud API send that a phone shows: text or caption, and the file's name or the picture. */
function phoneMessageOf(sent: SentRequest, state: PhoneMessage['state'] | undefined, phoneFile: (type: string, fileName: string | undefined) => Pick<PhoneMessage, 'fileName' | 'picture'>): PhoneMessage {
  const content = sent.body[sent.type];
  const fields = typeof content === 'object' && content !== null ? (content as Record<string, unknown>) : {};
  const text = sent.type === 'text' ? fields.body : sent.type === 'template' ? `(template ${String(fields.name ?? '')})` : fields.caption;
  const file = (mediaTypes as readonly string[]).includes(sent.type) ? phoneFile(sent.type, typeof fields.filename === 'string' ? fields.filename : undefined) : {};
  return {
    waMessageId: sent.waMessageId,
    type: sent.type,
    ...(typeof text === 'string' && text !== '' ? { text } : {}),
    ...file,
    sentAt: sent.receivedAt,
    state: state ?? 'accepted',
  };
}

/** The media id a Cloud API send names (an upload to the simulator), if any. */
function sentMediaId(sent: SentRequest | undefined): string | undefined {
  const content = sent?.body[sent.type];
  const id = typeof content === 'object' && content !== null ? (content as Record<string, unknown>).id : undefined;
  return typeof id === 'string' ? id : undefined;
}

/** WhatsApp sends pictures as image messages and everything else as documents. */
function mediaContent(mimeType: string, media: { id: string; mimeType: string; sha256: string }, fileName: string, caption: string | undefined) {
  const withCaption = caption ? { caption } : {};
  if (/^image\/(jpeg|png)$/.test(mimeType)) return { type: 'image' as const, media, ...withCaption };
  return { type: 'document' as const, media, filename: fileName, ...withCaption };
}
