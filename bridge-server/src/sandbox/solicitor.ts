import nodemailer from 'nodemailer';
import { BadInputError, BridgeError } from '../core/errors.js';
import type { CaughtMail } from './catcher.js';
import { parseMail } from './mail-view.js';

/**
 * The sandbox's pretend solicitor: answers a mirrored mail the way a mail client would (Reply-To
 * as the recipient, In-Reply-To and References for threading, the earlier mail quoted below the
 * new text) and delivers it to the bridge's own reply intake on loopback, as the firm's mail
 * server would. What the bridge does with it is then the real reply flow.
 */

export const SANDBOX_SOLICITOR = { name: 'Tom Baker', address: 'tom.baker@firm.sandbox.test' };

export interface SolicitorReplyRequest {
  mail: CaughtMail;
  text: string;
  file?: { fileName: string; mimeType: string; bytes: Buffer };
}

/** The intake refused the mail (an SMTP 4xx or 5xx answer): shown to the person as it is. */
export class ReplyRefusedError extends BridgeError {
  readonly status = 422;
  readonly code = 'reply_refused';
}

/** The reply intake is not running (the sandbox was started without the bridge). */
export class ReplyIntakeDownError extends BridgeError {
  readonly status = 503;
  readonly code = 'reply_intake_unavailable';
}

/** Sends the solicitor's reply to the intake at 127.0.0.1:`port`; resolves with its 250 answer. */
export async function sendSolicitorReply(port: number, request: SolicitorReplyRequest, now: Date = new Date()): Promise<{ response: string }> {
  const original = await parseMail(request.mail);
  const replyTo = original.replyTo?.value[0]?.address;
  if (!replyTo) throw new BadInputError('no_reply_address', `Mail ${request.mail.id} has no Reply-To address, so there is nothing to answer; reply to a mail the bridge mirrored.`);
  const messageId = original.messageId;
  const references = [...(original.references === undefined ? [] : Array.isArray(original.references) ? original.references : [original.references]), ...(messageId ? [messageId] : [])];
  const subject = original.subject ?? '';

  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  try {
    const info = await transport.sendMail({
      from: SANDBOX_SOLICITOR,
      to: replyTo,
      subject: /^re:/i.test(subject) ? subject : `Re: ${subject}`,
      date: now,
      ...(messageId ? { inReplyTo: messageId } : {}),
      ...(references.length > 0 ? { references } : {}),
      text: `${request.text}\n\n${quote(original.from?.text ?? 'the client', original.date, original.text ?? '')}`,
      attachments: request.file ? [{ filename: request.file.fileName, contentType: request.file.mimeType, content: request.file.bytes }] : [],
    });
    return { response: info.response };
  } catch (error) {
    const smtp = error as { responseCode?: unknown; response?: unknown; code?: unknown };
    if (typeof smtp.responseCode === 'number' && smtp.responseCode >= 400) {
      throw new ReplyRefusedError(`The bridge's reply intake refused the reply: ${typeof smtp.response === 'string' ? smtp.response : smtp.responseCode}`);
    }
    if (smtp.code === 'ESOCKET' || smtp.code === 'ECONNECTION') throw new ReplyIntakeDownError("The bridge's reply intake is not answering; restart the sandbox.");
    throw error;
  } finally {
    transport.close();
  }
}

/** "On <date>, <from> wrote:" and the earlier text with "> " before each line, as mail clients quote. */
export function quote(from: string, date: Date | undefined, text: string): string {
  const when = date && !Number.isNaN(date.getTime()) ? date.toUTCString() : 'an earlier date';
  const lines = text.replace(/\r\n/g, '\n').replace(/\n+$/, '').split('\n');
  return [`On ${when}, ${from} wrote:`, ...lines.map((line) => (line === '' ? '>' : `> ${line}`))].join('\n');
}
