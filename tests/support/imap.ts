// Reading a test stack's mailboxes back: imapflow for messages, a raw socket for THREAD,
// which imapflow does not implement.
import { ImapFlow, type FetchMessageObject, type MessageAddressObject } from 'imapflow';
import { connect, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { MailStack, MailUser } from './mail-stack.js';

const POLL_INTERVAL_MS = 100;
const RAW_IMAP_TIMEOUT_MS = 10_000;

export interface StoredMail {
  uid: number;
  /** The message exactly as Dovecot stored it, including the headers Postfix added. */
  source: Buffer;
  messageId: string | undefined;
  inReplyTo: string | undefined;
  subject: string | undefined;
  date: Date | undefined;
  /** Bare addresses of the From: header. */
  from: string[];
  /** Bare addresses of the To: header. */
  to: string[];
}

/** Every message in the user's INBOX, in UID order. */
export async function fetchAll(stack: MailStack, user: MailUser): Promise<StoredMail[]> {
  return withClient(stack, user, fetchInbox);
}

/**
 * Polls until the user's INBOX holds at least `count` messages, then returns all of them.
 * Delivery runs after the SMTP 250, so a test must wait rather than read right away.
 */
export async function waitForCount(
  stack: MailStack,
  user: MailUser,
  count: number,
  timeoutMs = 10_000,
): Promise<StoredMail[]> {
  return withClient(stack, user, async (client) => {
    const deadline = Date.now() + timeoutMs;
    let seen = await countInbox(client);
    while (seen < count) {
      if (Date.now() >= deadline) {
        throw new Error(`expected at least ${count} messages in ${user}'s INBOX within ${timeoutMs} ms, saw ${seen}`);
      }
      await delay(POLL_INTERVAL_MS);
      seen = await countInbox(client);
    }
    return fetchInbox(client);
  });
}

/**
 * Dovecot's own threading of the user's INBOX (`UID THREAD REFERENCES UTF-8 ALL`): one entry per
 * thread, each the UIDs of all its messages in the order the server listed them.
 */
export async function threadReferences(stack: MailStack, user: MailUser): Promise<number[][]> {
  const socket = connect({ host: '127.0.0.1', port: stack.imapPort });
  socket.setTimeout(RAW_IMAP_TIMEOUT_MS, () => socket.destroy(new Error('raw IMAP session timed out')));
  try {
    const session = new RawImapSession(socket);
    await session.greeting();
    await session.command(`LOGIN ${quoted(user)} ${quoted(stack.password)}`, 'LOGIN');
    await session.command('EXAMINE INBOX');
    const untagged = await session.command('UID THREAD REFERENCES UTF-8 ALL');
    await session.command('LOGOUT');
    const thread = untagged.find((line) => /^\* THREAD\b/i.test(line));
    if (thread === undefined) throw new Error(`no THREAD response in: ${untagged.join(' | ')}`);
    return parseThreadResponse(thread.replace(/^\* THREAD\s*/i, ''));
  } finally {
    socket.destroy();
  }
}

/**
 * Parses the body of an RFC 5256 THREAD response, for example `(1 2 (3)(4 5))(6)`. Each
 * top-level parenthesis is one thread; nested ones are its branches, flattened here.
 */
export function parseThreadResponse(text: string): number[][] {
  const threads: number[][] = [];
  let current: number[] = [];
  let depth = 0;
  for (const token of text.match(/\(|\)|[^\s()]+/g) ?? []) {
    if (token === '(') {
      if (depth === 0) current = [];
      depth += 1;
    } else if (token === ')') {
      depth -= 1;
      if (depth < 0) throw new Error(`unbalanced ")" in THREAD response: ${text}`);
      if (depth === 0) threads.push(current);
    } else if (/^\d+$/.test(token) && depth > 0) {
      current.push(Number(token));
    } else {
      throw new Error(`unexpected "${token}" in THREAD response: ${text}`);
    }
  }
  if (depth !== 0) throw new Error(`unbalanced "(" in THREAD response: ${text}`);
  return threads;
}

async function withClient<T>(stack: MailStack, user: MailUser, work: (client: ImapFlow) => Promise<T>): Promise<T> {
  const client = new ImapFlow({
    host: '127.0.0.1',
    port: stack.imapPort,
    secure: false,
    doSTARTTLS: false,
    auth: { user, pass: stack.password },
    logger: false,
    disableAutoIdle: true,
  });
  // A dropped connection also rejects the command in flight; unheard, the event would crash the run.
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

async function countInbox(client: ImapFlow): Promise<number> {
  const status = await client.status('INBOX', { messages: true });
  return status === false ? 0 : (status.messages ?? 0);
}

async function fetchInbox(client: ImapFlow): Promise<StoredMail[]> {
  const mailbox = await client.mailboxOpen('INBOX', { readOnly: true });
  if (mailbox.exists === 0) return [];
  const messages = await client.fetchAll('1:*', { uid: true, envelope: true, source: true });
  return messages.map(toStoredMail).sort((a, b) => a.uid - b.uid);
}

function toStoredMail(message: FetchMessageObject): StoredMail {
  const envelope = message.envelope ?? {};
  return {
    uid: message.uid,
    source: message.source ?? Buffer.alloc(0),
    messageId: envelope.messageId,
    inReplyTo: envelope.inReplyTo,
    subject: envelope.subject,
    date: envelope.date === undefined ? undefined : new Date(envelope.date),
    from: addresses(envelope.from),
    to: addresses(envelope.to),
  };
}

function addresses(list: MessageAddressObject[] | undefined): string[] {
  return (list ?? []).flatMap((entry) => (entry.address === undefined ? [] : [entry.address]));
}

function quoted(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/** Just enough of an IMAP client for commands whose responses carry no literals. */
class RawImapSession {
  private readonly lines: string[] = [];
  private readonly waiting: Array<{ resolve: (line: string) => void; reject: (error: Error) => void }> = [];
  private partial = '';
  private failure: Error | undefined;
  private nextTag = 1;
  private readonly socket: Socket;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.receive(chunk.toString('utf8')));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('IMAP server closed the connection')));
  }

  async greeting(): Promise<void> {
    const line = await this.nextLine();
    if (!/^\* OK\b/i.test(line)) throw new Error(`unexpected IMAP greeting: ${line}`);
  }

  /** Sends one command and returns its untagged responses; `label` keeps secrets out of errors. */
  async command(text: string, label = text): Promise<string[]> {
    const tag = `t${this.nextTag}`;
    this.nextTag += 1;
    this.socket.write(`${tag} ${text}\r\n`);
    const untagged: string[] = [];
    for (;;) {
      const line = await this.nextLine();
      if (!line.startsWith(`${tag} `)) {
        untagged.push(line);
      } else if (/^\S+ OK\b/i.test(line)) {
        return untagged;
      } else {
        throw new Error(`IMAP ${label} failed: ${line}`);
      }
    }
  }

  private receive(text: string): void {
    const parts = (this.partial + text).split('\r\n');
    this.partial = parts.pop() ?? '';
    this.lines.push(...parts);
    this.settle();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.settle();
  }

  private nextLine(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.settle();
    });
  }

  private settle(): void {
    for (;;) {
      const waiter = this.waiting[0];
      if (waiter === undefined) return;
      const line = this.lines.shift();
      if (line !== undefined) waiter.resolve(line);
      else if (this.failure !== undefined) waiter.reject(this.failure);
      else return;
      this.waiting.shift();
    }
  }
}
