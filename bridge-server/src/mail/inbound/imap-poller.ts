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
  /** True while a connection sits in IDLE on the mailbox, so new mail is read as it arrives. */
  isIdling(): boolean;
  stop(): Promise<void>;
}

/** Waits before reconnecting the IDLE connection: doubling from one second up to a minute. */
const reconnectDelays = { firstMs: 1000, maxMs: 60_000 };

/**
 * The IMAP route for solicitors' replies: the firm delivers mail for the reply domain into a
 * bridge mailbox, and the bridge reads its unseen messages. One connection keeps the mailbox
 * selected and IDLE (RFC 2177), and each new message it announces starts a read at once; a read
 * every `pollMs` stays as the fallback for a server or network that drops the IDLE connection
 * unnoticed, and the IDLE connection reconnects with backoff. A message is flagged \Seen once the
 * reply flow has decided on it (relayed, refused, ignored or rejected), so a failure to store
 * leaves it unseen for the next read. The reply address comes from the To/Cc/Delivered-To/
 * X-Original-To headers, since the envelope is gone once mail is in a mailbox.
 */
export function startImapReplyPoller(options: ImapPollerOptions): ImapPoller {
  const target = new URL(options.url);
  const mailbox = decodeURIComponent(target.pathname.replace(/^\//, '')) || 'INBOX';
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  // A read asked for while one runs: that one may have searched before the new mail arrived.
  let again = false;
  let stopped = false;
  let watcher: import('imapflow').ImapFlow | undefined;
  let wakeWatcher: (() => void) | undefined;

  const connectionOptions = () => ({
    host: target.hostname,
    port: Number(target.port || (target.protocol === 'imaps:' ? 993 : 143)),
    secure: target.protocol === 'imaps:',
    auth: { user: decodeURIComponent(target.username), pass: decodeURIComponent(target.password) },
    logger: false as const,
  });

  const pollNow = (): Promise<number> => (running ??= poll().finally(() => (running = undefined)));

  /** Reads the mailbox now, or once more after the read that is running. */
  const readSoon = (why: string): void => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    pollNow()
      .catch((error: unknown) => options.log({ err: error, why }, 'reading the reply mailbox failed; will try again'))
      .finally(() => {
        if (!again) return;
        again = false;
        readSoon(why);
      });
  };

  async function poll(): Promise<number> {
    // Loaded on use: a bridge that reads no reply mailbox never loads the IMAP client and parser.
    const [{ ImapFlow }, { simpleParser }] = await Promise.all([import('imapflow'), import('mailparser')]);
    const client = new ImapFlow(connectionOptions());
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

  /**
   * Keeps one connection on the mailbox in IDLE (imapflow idles a selected, unused connection by
   * itself; the short delay starts it at once) and reads the mailbox whenever the server announces
   * a new message. Reconnects with backoff while the poller runs.
   */
  async function watch(): Promise<void> {
    const { ImapFlow } = await import('imapflow');
    let delay = reconnectDelays.firstMs;
    while (!stopped) {
      const client = new ImapFlow({ ...connectionOptions(), autoIdleDelay: 500 });
      watcher = client;
      const closed = new Promise<void>((resolve) => client.once('close', resolve));
      client.on('error', (error: Error) => options.log({ err: error }, 'the reply mailbox connection failed; reconnecting'));
      client.on('exists', (event: { count: number; prevCount: number }) => {
        if (event.count > event.prevCount) readSoon('new mail announced');
      });
      try {
        await client.connect();
        await client.mailboxOpen(mailbox);
        delay = reconnectDelays.firstMs;
        // Mail delivered while no connection was watching.
        readSoon('connected');
        if (stopped) await client.logout().catch(() => undefined);
        await closed;
      } catch (error) {
        options.log({ err: error }, 'could not watch the reply mailbox; will try again');
        client.close();
      }
      watcher = undefined;
      if (stopped) break;
      await new Promise<void>((resolve) => {
        const wait = setTimeout(resolve, delay);
        wait.unref();
        wakeWatcher = () => {
          clearTimeout(wait);
          resolve();
        };
      });
      wakeWatcher = undefined;
      delay = Math.min(delay * 2, reconnectDelays.maxMs);
    }
  }
  const watching = watch().catch((error: unknown) => options.log({ err: error }, 'watching the reply mailbox stopped'));

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
    isIdling: () => watcher?.idling === true,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      wakeWatcher?.();
      await watcher?.logout().catch(() => watcher?.close());
      await watching;
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
