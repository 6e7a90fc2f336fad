import nodemailer from 'nodemailer';
import { UpstreamError } from '../../core/errors.js';
import type { MailTransport, SendResult } from '../../core/ports.js';

export interface SmtpOptions {
  url: string;
  maxConnections: number;
  /** Per-connection socket timeouts, so a hung server becomes a transient failure. */
  timeoutMs?: number;
}

interface SmtpFailure {
  code?: string;
  responseCode?: number;
  response?: string;
  message?: string;
}

/**
 * Sends composed messages over pooled SMTP (nodemailer). The raw bytes go out exactly as given:
 * the relay decided every header. Failures are classified here, where their meaning is known:
 * a dropped or refused connection, a timeout or a 4xx reply is transient; a 5xx reply permanent.
 */
/** Given to nodemailer for a raw mail so it does not make one up; never written (the raw bytes carry their own). */
const unusedMessageId = 'raw@wa-bridge.invalid';

export class SmtpTransport implements MailTransport {
  private readonly transporter;

  constructor(options: SmtpOptions) {
    const timeout = options.timeoutMs ?? 30_000;
    this.transporter = nodemailer.createTransport({
      url: options.url,
      pool: true,
      maxConnections: options.maxConnections,
      maxMessages: 1000,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout * 2,
      // Firm gateways on private networks often present internal certificates; STARTTLS is
      // still used when offered. smtps:// URLs verify as usual.
      tls: { rejectUnauthorized: !options.url.startsWith('smtp:') },
    });
  }

  async send(raw: Buffer, envelope: { from: string; to: string[] }): Promise<SendResult> {
    try {
      // nodemailer wraps even raw bytes in a message node, and draws random numbers (six OpenSSL
      // calls) for a Message-ID and a boundary it never writes unless it is given both; the bytes
      // on the wire are `raw` either way.
      const info = await this.transporter.sendMail({ envelope, raw, messageId: unusedMessageId, baseBoundary: 'raw' });
      return { response: String(info.response ?? '') };
    } catch (error) {
      throw classifySmtpError(error as SmtpFailure);
    }
  }

  async close(): Promise<void> {
    this.transporter.close();
  }
}

export function classifySmtpError(error: SmtpFailure): UpstreamError {
  const status = error.responseCode;
  const permanent = typeof status === 'number' && status >= 500;
  const what = typeof status === 'number' ? `SMTP server replied ${(error.response ?? String(status)).slice(0, 300)}` : `SMTP connection failed (${error.code ?? 'unknown'}: ${error.message ?? ''})`;
  return new UpstreamError('smtp', what, permanent ? 'permanent' : 'transient', status ?? error.code);
}
