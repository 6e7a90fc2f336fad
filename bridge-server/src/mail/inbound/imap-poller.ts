import type { AddressObject, ParsedMail } from 'mailparser';
import type { EmailReplyOutcome, InboundEmailReply } from '../../core/email-reply.js';
import { toInboundReply, type ReplyTextExtractor } from './to-reply.js';

export interface ImapPollerOptions {
  /** imap://user:password@host:port/MAILBOX or imaps://… (mailbox defaults to INBOX). */
  url: string;
  mailDomain: string;
  pollMs: number;
  extract: ReplyTextExtractor;
  onReply(reply: InboundEmailReply): Promise<EmailReplyOutcome>;
  log(fields: Record<string, unknown>, message: string): void;
}

export interface ImapPoller {
  /** Reads the mailbox once now (tests; the poller also runs on its own). */
  pollNow(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * The IMAP route for solicitors' replies: the firm delivers mail for the reply domain into a
 * bridge mailbox, and the bridge reads its unseen messages every `pollMs`. A message is flagged
 * \Seen once the reply flow has decided on it (relayed, refused, ignored or rejected), so a
 * failure to store leaves it unseen for the next round. The reply address comes from the
 * To/Cc/Delivered-To/X-Original-To headers, since the envelope is gone once mail is in a mailbox.
 */
export function startImapReplyPoller(options: ImapPollerOptions): ImapPoller {
  const target = new URL(options.url);
  const mailbox = decodeURIComponent(target.pathname.replace(/^\//, '')) || 'INBOX';
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let stopped = false;

  const pollNow = (): Promise<number> => (running ??= poll().finally(() => (running = undefined)));

  async function poll(): Promise<number> {
    // Loaded on use: a bridge that reads no reply mailbox never loads the IMAP client and parser.
    const [{ ImapFlow }, { simpleParser }] = await Promise.all([import('imapflow'), import('mailparser')]);
    const client = new ImapFlow({
      host: target.hostname,
      port: Number(target.port || (target.protocol === 'imaps:' ? 993 : 143)),
      secure: target.protocol === 'imaps:',
      auth: { user: decodeURIComponent(target.username), pass: decodeURIComponent(target.password) },
      logger: false,
    });
    await client.connect();
    let handled = 0;
    try {
      const lock = await client.getMailboxLock(mailbox);
      try {
        const unseen = await client.search({ seen: false }, { uid: true });
        for (const uid of unseen || []) {
          const message = await client.fetchOne(String(uid), { source: true }, { uid: true });
          if (!message || !message.source) continue;
          const mail = await simpleParser(message.source);
          const outcome = await options.onReply(toInboundReply(mail, envelopeOf(mail, options.mailDomain), options.extract));
          options.log({ outcome: outcome.outcome, uid, ...('reason' in outcome ? { reason: outcome.reason } : {}) }, 'email reply (imap)');
          await client.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true });
          handled += 1;
        }
      } finally {
        lock.release();
      }
    } finally {
      await client.logout().catch(() => undefined);
    }
    return handled;
  }

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      pollNow()
        .catch((error: unknown) => options.log({ err: error }, 'reading the reply mailbox failed; will try again'))
        .finally(schedule);
    }, options.pollMs);
    timer.unref();
  };
  schedule();

  return {
    pollNow,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running?.catch(() => undefined);
    },
  };
}

/** Sender and reply-address recipients as far as the stored message still tells them. */
function envelopeOf(mail: ParsedMail, mailDomain: string): { from: string; to: string[] } {
  const returnPath = String(mail.headers.get('return-path') ?? '').replace(/[<>\s]/g, '');
  const from = mail.headers.has('return-path') ? returnPath : (addressesOf(mail.from)[0] ?? '');
  const headerAddresses = [
    ...addressesOf(mail.to),
    ...addressesOf(mail.cc),
    ...['delivered-to', 'x-original-to'].flatMap((name) => String(mail.headers.get(name) ?? '').split(/[\s,]+/)),
  ];
  const suffix = `@${mailDomain.toLowerCase()}`;
  return { from, to: [...new Set(headerAddresses.map((a) => a.replace(/[<>]/g, '').toLowerCase()).filter((a) => a.startsWith('wa+') && a.endsWith(suffix)))] };
}

function addressesOf(value: AddressObject | AddressObject[] | undefined): string[] {
  const list = Array.isArray(value) ? value : value ? [value] : [];
  return list.flatMap((group) => group.value.map((entry) => entry.address ?? '')).filter(Boolean);
}
