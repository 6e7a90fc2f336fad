import { connect, type Socket } from 'node:net';

export interface SmtpAnswer {
  code: number;
  text: string;
}

/**
 * A deliberately plain SMTP client for hostile mail: it sends the message bytes exactly as given
 * (bare CR or LF, bytes that are not UTF-8, lines of any length), doing only the dot-stuffing
 * RFC 5321 4.5.2 requires, over one connection reused for many messages.
 */
export class RawSmtpClient {
  private buffer = '';
  private waiting: ((answer: SmtpAnswer) => void) | undefined;
  private failed: Error | undefined;
  private closed = false;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      this.deliver();
    });
    socket.on('error', (error) => {
      this.failed = error;
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiting?.({ code: 0, text: `connection closed${this.failed ? `: ${this.failed.message}` : ''}` });
      this.waiting = undefined;
    });
  }

  static async open(port: number, host = '127.0.0.1'): Promise<RawSmtpClient> {
    const socket = connect(port, host);
    // Commands are small and each waits for its answer: Nagle's algorithm would hold every one
    // back until the previous segment is acknowledged.
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    const client = new RawSmtpClient(socket);
    const greeting = await client.read();
    if (greeting.code !== 220) throw new Error(`SMTP greeting: ${greeting.code} ${greeting.text}`);
    const ehlo = await client.command('EHLO hostile.firm.test');
    if (ehlo.code !== 250) throw new Error(`EHLO: ${ehlo.code} ${ehlo.text}`);
    return client;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends one message; resolves with the server's final answer (code 0 if it hung up). */
  async send(envelope: { from: string; to: string[] }, message: Buffer): Promise<SmtpAnswer> {
    const from = await this.command(`MAIL FROM:<${envelope.from}>`);
    if (from.code !== 250) return this.reset(from);
    for (const to of envelope.to) {
      const rcpt = await this.command(`RCPT TO:<${to}>`);
      if (rcpt.code !== 250) return this.reset(rcpt);
    }
    const data = await this.command('DATA');
    if (data.code !== 354) return this.reset(data);
    this.socket.write(Buffer.concat([dotStuff(message), Buffer.from('\r\n.\r\n')]));
    return this.read();
  }

  async quit(): Promise<void> {
    if (this.closed) return;
    this.socket.write('QUIT\r\n');
    await new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
      setTimeout(() => {
        this.socket.destroy();
        resolve();
      }, 1000).unref();
    });
  }

  private async reset(answer: SmtpAnswer): Promise<SmtpAnswer> {
    if (!this.closed) await this.command('RSET');
    return answer;
  }

  private command(line: string): Promise<SmtpAnswer> {
    this.socket.write(`${line}\r\n`);
    return this.read();
  }

  private read(): Promise<SmtpAnswer> {
    if (this.closed) return Promise.resolve({ code: 0, text: 'connection closed' });
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.deliver();
    });
  }

  /** Hands over one complete reply (the last line of a multi-line one has a space after the code). */
  private deliver(): void {
    if (!this.waiting) return;
    const lines = this.buffer.split('\r\n');
    for (let i = 0; i < lines.length - 1; i += 1) {
      const match = /^(\d{3})([ -])(.*)$/.exec(lines[i]!);
      if (match && match[2] === ' ') {
        const text = lines
          .slice(0, i + 1)
          .map((l) => l.slice(4))
          .join('\n');
        this.buffer = lines.slice(i + 1).join('\r\n');
        const resolve = this.waiting;
        this.waiting = undefined;
        resolve({ code: Number(match[1]), text });
        return;
      }
    }
  }
}

/**
 * A line that starts with "." gets another one (after a bare LF too, so no server can read one as
 * the end of the data); the message ends with CRLF before the final dot.
 */
function dotStuff(message: Buffer): Buffer {
  const text = message.toString('latin1');
  const stuffed = (text.startsWith('.') ? '.' : '') + text.replace(/\n\./g, '\n..');
  return Buffer.from(stuffed.endsWith('\r\n') ? stuffed.slice(0, -2) : stuffed, 'latin1');
}
