import { createHash } from 'node:crypto';
import net from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamError } from '../../core/errors.js';
import type { MailTransport } from '../../core/ports.js';
import { SmtpTransport, ThreadedSmtpTransport, type SmtpOptions } from './smtp.js';

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

interface Received {
  from: string;
  to: string[];
  bytes: Buffer;
}

const transports: Array<[string, (options: SmtpOptions) => MailTransport]> = [
  ['SmtpTransport', (options) => new SmtpTransport(options)],
  ['ThreadedSmtpTransport', (options) => new ThreadedSmtpTransport(options)],
];

/**
 * The transport, on this thread and on one of its own, against a real SMTP server on loopback
 * (smtp-server): the bytes that arrive are the bytes given, over connections the pool keeps and
 * reopens, and the server's refusals come back classified.
 */
describe.each(transports)('%s', (_name, open) => {
  const received: Received[] = [];
  const sessions = new Set<SMTPServerSession>();
  let server: SMTPServer;
  let url: string;

  beforeAll(async () => {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onConnect(session, callback) {
        sessions.add(session);
        callback();
      },
      onRcptTo(address, _session, callback) {
        if (address.address.startsWith('gone@')) return callback(Object.assign(new Error('5.1.1 no such mailbox'), { responseCode: 550 }));
        if (address.address.startsWith('busy@')) return callback(Object.assign(new Error('4.2.1 mailbox busy, try later'), { responseCode: 451 }));
        callback();
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const envelope = session.envelope;
          received.push({ from: envelope.mailFrom ? envelope.mailFrom.address : '', to: envelope.rcptTo.map((r) => r.address), bytes: Buffer.concat(chunks) });
          callback();
        });
      },
    });
    server.on('error', () => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.server.address();
    url = `smtp://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const mail = (n: number) =>
    Buffer.from(
      `From: Bridge <bridge@wa.firm.test>\r\nTo: inbox@firm.test\r\nSubject: note ${n}\r\nMessage-ID: <n${n}@wa.firm.test>\r\n\r\n` +
        // A line of one dot ends DATA unless the client doubles it; the server undoes that.
        `first line\r\n.\r\n..two dots\r\n.leading dot\r\n${'x'.repeat(2000)}\r\n`,
    );

  it('delivers the given bytes unchanged, with the envelope given, many mails over a few pooled connections', async () => {
    const transport = open({ url, maxConnections: 3 });
    const before = received.length;
    const connectionsBefore = sessions.size;
    try {
      const mails = Array.from({ length: 30 }, (_, n) => mail(n));
      const results = await Promise.all(mails.map((raw) => transport.send(raw, { from: 'bridge@wa.firm.test', to: ['inbox@firm.test', 'journal@firm.test'] })));
      expect(results.every((r) => r.response.startsWith('250'))).toBe(true);
      const got = received.slice(before);
      expect(got.map((r) => sha(r.bytes)).sort()).toEqual(mails.map((raw) => sha(raw)).sort());
      expect(got.every((r) => r.from === 'bridge@wa.firm.test' && r.to.join() === 'inbox@firm.test,journal@firm.test')).toBe(true);
      expect(sessions.size - connectionsBefore).toBeLessThanOrEqual(3);
    } finally {
      await transport.close();
    }
  });

  it('reports a 5xx refusal as permanent and a 4xx one as transient, and goes on sending after either', async () => {
    const transport = open({ url, maxConnections: 1 });
    try {
      const gone = await transport.send(mail(100), { from: 'bridge@wa.firm.test', to: ['gone@firm.test'] }).catch((error: unknown) => error);
      expect(gone).toBeInstanceOf(UpstreamError);
      expect((gone as UpstreamError).retry).toBe('permanent');
      expect((gone as UpstreamError).message).toMatch(/550.*no such mailbox/);
      const busy = await transport.send(mail(101), { from: 'bridge@wa.firm.test', to: ['busy@firm.test'] }).catch((error: unknown) => error);
      expect(busy).toBeInstanceOf(UpstreamError);
      expect((busy as UpstreamError).retry).toBe('transient');
      const before = received.length;
      await transport.send(mail(102), { from: 'bridge@wa.firm.test', to: ['inbox@firm.test'] });
      expect(received.slice(before).map((r) => sha(r.bytes))).toEqual([sha(mail(102))]);
    } finally {
      await transport.close();
    }
  });

  it('opens a new connection when the server closed the one it had', async () => {
    const transport = open({ url, maxConnections: 1 });
    try {
      await transport.send(mail(200), { from: 'bridge@wa.firm.test', to: ['inbox@firm.test'] });
      // The server ends every session it has (an idle timeout, a restart of the firm's gateway).
      for (const connection of (server as unknown as { connections: Set<{ close(): void }> }).connections) connection.close();
      await new Promise((resolve) => setTimeout(resolve, 50));
      const before = received.length;
      await transport.send(mail(201), { from: 'bridge@wa.firm.test', to: ['inbox@firm.test'] });
      expect(received.slice(before).map((r) => sha(r.bytes))).toEqual([sha(mail(201))]);
    } finally {
      await transport.close();
    }
  });

  it('says a server that is not there is a transient failure', async () => {
    const transport = open({ url: 'smtp://127.0.0.1:1', maxConnections: 1, timeoutMs: 2000 });
    try {
      const failure = await transport.send(mail(300), { from: 'bridge@wa.firm.test', to: ['inbox@firm.test'] }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(UpstreamError);
      expect((failure as UpstreamError).retry).toBe('transient');
      expect((failure as UpstreamError).message).toMatch(/SMTP connection failed \(ESOCKET: connect ECONNREFUSED/);
    } finally {
      await transport.close();
    }
  });
});

describe('ThreadedSmtpTransport.state', () => {
  const servers: Array<{ close(callback: () => void): void }> = [];
  afterAll(() => Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())))));

  it('says whether the SMTP server answers, checking at most once in the interval given', async () => {
    const server = new SMTPServer({ authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'], logger: false });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.server.address() as { port: number }).port;
    const transport = new ThreadedSmtpTransport({ url: `smtp://127.0.0.1:${port}`, maxConnections: 1 });
    try {
      const first = await transport.state(60_000);
      expect(first).toMatchObject({ state: 'reachable' });
      // Within the interval the last result stands, even with the server gone.
      await new Promise<void>((resolve) => server.close(() => resolve()));
      servers.pop();
      expect(await transport.state(60_000)).toEqual(first);
      const failures: unknown[] = [];
      const gone = await transport.state(0, (error) => failures.push(error));
      expect(gone).toMatchObject({ state: 'unreachable', detail: expect.stringMatching(/^connection failed/) });
      expect((gone as { detail: string }).detail).not.toContain('127.0.0.1');
      expect(failures).toHaveLength(1);
      expect((failures[0] as UpstreamError).message).toMatch(/ECONNREFUSED/);
    } finally {
      await transport.close();
    }
  });

  it('counts a server that takes the connection and never greets as not answering, without waiting for the socket timeout', async () => {
    const held = new Set<net.Socket>();
    const silent = net.createServer((socket) => void held.add(socket));
    servers.push({ close: (done) => silent.close(done) });
    // The check given up on still waits for its greeting; the server ends it when the test is done.
    servers.unshift({ close: (done) => (held.forEach((socket) => socket.destroy()), done()) });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const transport = new ThreadedSmtpTransport({ url: `smtp://127.0.0.1:${port}`, maxConnections: 1, timeoutMs: 60_000 });
    try {
      expect(await transport.state(60_000, undefined, 300)).toMatchObject({ state: 'unreachable', detail: 'no answer within 0.3 s' });
    } finally {
      await transport.close();
    }
  });
});
