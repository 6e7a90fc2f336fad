import { SMTPServer } from 'smtp-server';

export interface SinkAcceptance {
  /** X-WhatsApp-Message-Id of the mail, or its Message-ID when it has none. */
  key: string;
  at: number;
}

export interface SmtpSink {
  port: number;
  accepted: SinkAcceptance[];
  /** Resolves once `n` mails in total have been accepted. */
  waitFor(n: number, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * An SMTP server on loopback that accepts every mail, keeps nothing but the time it answered 250
 * and the mail's key header, and so measures the relay as the firm's gateway would see it.
 */
export async function startSmtpSink(): Promise<SmtpSink> {
  const accepted: SinkAcceptance[] = [];
  let waiters: Array<{ n: number; resolve: () => void }> = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    size: 64 * 1024 * 1024,
    onData(stream, _session, callback) {
      let head = '';
      let headDone = false;
      stream.on('data', (chunk: Buffer) => {
        if (headDone) return;
        head += chunk.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end >= 0) {
          head = head.slice(0, end);
          headDone = true;
        }
      });
      stream.on('end', () => {
        accepted.push({ key: keyOf(head), at: performance.now() });
        callback();
        waiters = waiters.filter((w) => (accepted.length >= w.n ? (w.resolve(), false) : true));
      });
    },
  });
  // A client that goes away mid-session (a bridge killed on purpose) is not the sink's problem.
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    accepted,
    waitFor(n, timeoutMs) {
      if (accepted.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`sink saw ${accepted.length} of ${n} mails within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function keyOf(head: string): string {
  const lines = head.replace(/\r\n[ \t]+/g, ' ').split('\r\n');
  const find = (name: string) => lines.find((l) => l.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1).trim();
  return find('x-whatsapp-message-id') ?? find('message-id') ?? '';
}
