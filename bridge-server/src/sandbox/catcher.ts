import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

/**
 * The sandbox's stand-in for the firm mailbox: a local SMTP server that accepts every mail the
 * bridge relays and keeps the newest ones in memory, byte for byte, so the sandbox page can show
 * what a real mailbox would receive. It delivers nothing anywhere.
 */

export interface CaughtMail {
  /** Increases by one per accepted mail, starting at 1. */
  id: number;
  /** When the catcher accepted the mail (ms since the epoch). */
  receivedAt: number;
  /** The SMTP envelope (MAIL FROM / RCPT TO), which may differ from the From/To headers. */
  envelope: { from: string; to: string[] };
  /** The message exactly as the client sent it after DATA (dot-unstuffed). */
  raw: Buffer;
  /** SHA-256 of `raw`, lower-case hex. */
  sha256: string;
}

/** A mail an earlier run caught, handed to a new catcher by takeEarlier. */
export interface EarlierMail {
  /** When it was accepted (ms since the epoch). */
  receivedAt: number;
  envelope: { from: string; to: string[] };
  raw: Buffer;
}

export interface MailCatcherOptions {
  /** Address to listen on. Default 127.0.0.1: the catcher is for this machine only. */
  host?: string;
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Largest message accepted; bigger ones get 552 and are not kept. Default 60 MiB. */
  maxMessageBytes?: number;
  /** How many of the newest mails are kept in memory. Default 500. */
  keep?: number;
  /** Called for server-level errors (a socket failing), which must not crash the process. */
  onError?: (error: Error) => void;
}

export interface MailCatcher {
  /** `smtp://host:port`, ready for nodemailer or WA_BRIDGE_SMTP_URL. */
  readonly url: string;
  readonly port: number;
  /** The kept mails, oldest first. A copy: changing it changes nothing in the catcher. */
  mails(): CaughtMail[];
  get(id: number): CaughtMail | undefined;
  /**
   * Keeps mails caught before this catcher started (by an earlier run, whose mails are stored
   * elsewhere), given oldest first, as if it had caught them itself: they get the first ids, only
   * the newest `keep` of them are kept, and listeners are not told (nothing new arrived). Mails
   * caught afterwards follow them. Returns the ones kept. Throws when the catcher has already
   * caught or taken a mail: ids would then no longer follow the order the mails came in.
   */
  takeEarlier(mails: readonly EarlierMail[]): CaughtMail[];
  /**
   * Calls `listener` after each accepted mail, once it is kept. The listener runs synchronously
   * inside the SMTP transaction, so it must not block or throw. Returns the unsubscribe function.
   */
  onMail(listener: (mail: CaughtMail) => void): () => void;
  /** Stops listening and closes open connections (waiting at most about two seconds). */
  stop(): Promise<void>;
}

const defaultMaxMessageBytes = 60 * 1024 * 1024;
const defaultKeep = 500;

export async function startMailCatcher(options: MailCatcherOptions = {}): Promise<MailCatcher> {
  const host = options.host ?? '127.0.0.1';
  const maxMessageBytes = options.maxMessageBytes ?? defaultMaxMessageBytes;
  const keep = Math.max(1, options.keep ?? defaultKeep);
  const kept: CaughtMail[] = [];
  const listeners = new Set<(mail: CaughtMail) => void>();
  let nextId = 1;

  const caught = (raw: Buffer, receivedAt: number, envelope: CaughtMail['envelope']): CaughtMail => ({
    id: nextId++,
    receivedAt,
    envelope,
    raw,
    sha256: createHash('sha256').update(raw).digest('hex'),
  });

  const accept = (raw: Buffer, session: SMTPServerSession): void => {
    const mail = caught(raw, Date.now(), {
      from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
      to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
    });
    kept.push(mail);
    if (kept.length > keep) kept.splice(0, kept.length - keep);
    for (const listener of [...listeners]) listener(mail);
  };

  const server = new SMTPServer({
    name: 'wa-bridge-sandbox',
    banner: 'wa-bridge sandbox mail catcher: mail is kept in memory and delivered to no one',
    // Local plain-text SMTP, as the sandbox's nodemailer expects: no STARTTLS offered, and
    // credentials in an SMTP URL are accepted without checking.
    secure: false,
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    allowInsecureAuth: true,
    onAuth: (auth, _session, callback) => callback(null, { user: auth.username ?? 'sandbox' }),
    // Advertise SIZE (RFC 1870) so a well-behaved client gives up before sending, and answer 552
    // to one that sends too much anyway.
    size: maxMessageBytes,
    rejectOversized: true,
    disableReverseLookup: true,
    closeTimeout: 2000,
    logger: false,
    onData: (stream: SMTPServerDataStream, session, callback) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      stream.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        // Past the limit the mail is refused anyway; stop holding it in memory.
        if (bytes <= maxMessageBytes) chunks.push(chunk);
      });
      stream.once('error', (error) => callback(error));
      stream.once('end', () => {
        if (stream.sizeExceeded || bytes > maxMessageBytes) return callback(tooBig(maxMessageBytes));
        accept(Buffer.concat(chunks, bytes), session);
        callback(null, 'OK: caught by the wa-bridge sandbox');
      });
    },
  });
  server.on('error', (error: Error) => options.onError?.(error));

  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.server.once('error', onError);
    server.listen(options.port ?? 0, host, () => {
      server.server.off('error', onError);
      resolve();
    });
  });
  const port = (server.server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let stopping: Promise<void> | undefined;
  return {
    url: `smtp://${urlHost}:${port}`,
    port,
    mails: () => [...kept],
    get: (id) => kept.find((mail) => mail.id === id),
    takeEarlier(mails) {
      if (nextId !== 1) throw new Error('earlier mails can only be taken before the catcher has caught or taken any');
      const taken = mails.slice(Math.max(0, mails.length - keep)).map((mail) => caught(mail.raw, mail.receivedAt, { from: mail.envelope.from, to: [...mail.envelope.to] }));
      kept.push(...taken);
      return [...taken];
    },
    onMail(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    stop: () =>
      (stopping ??= new Promise<void>((resolve) => {
        listeners.clear();
        server.close(() => resolve());
      })),
  };
}

function tooBig(limit: number): Error & { responseCode: number } {
  return Object.assign(new Error(`Error: message exceeds fixed maximum message size ${limit}`), { responseCode: 552 });
}
