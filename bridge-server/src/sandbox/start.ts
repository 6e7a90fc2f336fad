import type { Router } from 'express';
import { startSimulator, type Simulator } from '../channels/simulator/server.js';
import type { Logger } from '../ops/logger.js';
import { startMailCatcher, type MailCatcher } from './catcher.js';
import { createSandboxRouter, type SandboxClient } from './routes.js';

export interface Sandbox {
  simulator: Simulator;
  catcher: MailCatcher;
  /** The pretend firm mailbox the relayed mail is addressed to. */
  mailbox: string;
  router: Router;
  /** Points the simulator's webhooks at the bridge once it listens. */
  connect(webhookUrl: string): Promise<void>;
  stop(): Promise<void>;
}

export const SANDBOX_MAILBOX = 'solicitor@firm.sandbox.test';

/**
 * The sandbox: a Cloud API simulator (test double of Meta) that posts signed webhooks into this
 * bridge, and a local SMTP catcher that receives the relayed mail, shown at /sandbox.
 */
export async function startSandbox(options: { logger: Logger; appSecret: string; accessToken: string }): Promise<Sandbox> {
  const simulator = await startSimulator({ appSecret: options.appSecret, accessToken: options.accessToken });
  const catcher = await startMailCatcher({});
  const client: SandboxClient = {
    async sendAsClient(input) {
      const sender = { from: input.phone.replace(/\D/g, ''), name: input.name };
      const envelope = input.file
        ? simulator.inboundMessage({
            ...sender,
            ...mediaContent(input.file.mimeType, simulator.addMedia(input.file.bytes, input.file.mimeType), input.file.fileName, input.text),
          })
        : simulator.inboundMessage({ ...sender, type: 'text', body: input.text ?? '' });
      const answer = await simulator.postWebhook(envelope);
      if (answer.status !== 200) throw new Error(`the bridge answered the simulated webhook with ${answer.status}`);
      const message = envelope.entry[0]?.changes[0]?.value.messages as Array<{ id: string }> | undefined;
      return { waMessageId: message?.[0]?.id ?? '' };
    },
  };
  const router = createSandboxRouter({ catcher, client, firmNumber: `+${simulator.business.displayPhoneNumber}`, mailbox: SANDBOX_MAILBOX });
  options.logger.info({ simulator: simulator.url, catcher: catcher.url }, 'sandbox started: simulator and mail catcher on loopback');
  return {
    simulator,
    catcher,
    mailbox: SANDBOX_MAILBOX,
    router,
    async connect(webhookUrl) {
      simulator.webhookUrl = webhookUrl;
    },
    async stop() {
      await simulator.stop();
      await catcher.stop();
    },
  };
}

/** WhatsApp sends pictures as image messages and everything else as documents. */
function mediaContent(mimeType: string, media: { id: string; mimeType: string; sha256: string }, fileName: string, caption: string | undefined) {
  const withCaption = caption ? { caption } : {};
  if (/^image\/(jpeg|png)$/.test(mimeType)) return { type: 'image' as const, media, ...withCaption };
  return { type: 'document' as const, media, filename: fileName, ...withCaption };
}
