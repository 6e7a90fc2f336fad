import type { SMTPServerAddress } from 'smtp-server';
import type { EmailReplyOutcome, InboundEmailReply } from '../../core/email-reply.js';
import { toInboundReply, type ReplyTextExtractor } from './to-reply.js';

export interface InboundSmtpOptions {
  host: string;
  port: number;
  /** The bridge's reply-address domain; mail to any other domain is refused at RCPT TO. */
  mailDomain: string;
  maxBytes: number;
  extract: ReplyTextExtractor;
  onReply(reply: InboundEmailReply): Promise<EmailReplyOutcome>;
  log(fields: Record<string, unknown>, message: string): void;
}

export interface InboundSmtp {
  port: number;
  stop(): Promise<void>;
}

class SmtpReject extends Error {
  constructor(
    readonly responseCode: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The SMTP route for solicitors' replies (a connector or MX record for the reply domain points
 * here). Recipients outside the reply domain are refused at RCPT TO; each accepted mail is parsed
 * and handed to the reply flow, and the SMTP answer says what happened: 250 when relayed or
 * deliberately ignored (auto-replies must not bounce, or loops start), 550 when rejected.
 */
export async function startInboundSmtp(options: InboundSmtpOptions): Promise<InboundSmtp> {
  // Loaded on use: a bridge without the reply intake never loads the SMTP server and parser.
  const [{ SMTPServer }, { simpleParser }] = await Promise.all([import('smtp-server'), import('mailparser')]);
  const domain = options.mailDomain.toLowerCase();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    size: options.maxBytes,
    logger: false,
    banner: 'wa-bridge reply intake',
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      const lower = address.address.toLowerCase();
      if (!lower.startsWith('wa+') || !lower.endsWith(`@${domain}`)) return callback(new SmtpReject(550, '5.1.1 not a reply address of this bridge'));
      callback();
    },
    onData(stream, session, callback) {
      let size = 0;
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= options.maxBytes) chunks.push(chunk);
      });
      stream.on('end', () => {
        if (size > options.maxBytes || (stream as unknown as { sizeExceeded?: boolean }).sizeExceeded) {
          return callback(new SmtpReject(552, '5.3.4 message too big for the reply intake'));
        }
        const envelope = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
        };
        void handle(Buffer.concat(chunks), envelope).then(
          (answer) => callback(answer.error ?? null, answer.message),
          (error: unknown) => {
            options.log({ err: error }, 'reply intake failed');
            callback(new SmtpReject(451, '4.3.0 the reply could not be stored; try again later'));
          },
        );
      });
    },
  });

  async function handle(raw: Buffer, envelope: { from: string; to: string[] }): Promise<{ error?: Error; message?: string }> {
    let reply: InboundEmailReply;
    try {
      reply = toInboundReply(await simpleParser(raw), envelope, options.extract);
    } catch {
      return { error: new SmtpReject(550, '5.6.0 the message could not be read as MIME') };
    }
    const result = await options.onReply(reply);
    options.log({ outcome: result.outcome, mailMessageId: reply.messageId, ...('reason' in result ? { reason: result.reason } : {}) }, 'email reply');
    if (result.outcome === 'rejected') return { error: new SmtpReject(550, `5.7.1 ${result.reason}`) };
    return { message: result.outcome === 'ignored' ? `2.0.0 not relayed: ${result.reason}` : `2.0.0 reply ${result.outcome}` };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  server.on('error', (error) => options.log({ err: error }, 'reply intake connection error'));
  const address = server.server.address();
  return {
    port: typeof address === 'object' && address ? address.port : options.port,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
