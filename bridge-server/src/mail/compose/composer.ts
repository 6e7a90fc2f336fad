import { createHash } from 'node:crypto';
import MailComposer, { type MailComposerAttachment, type MailComposerOptions } from 'nodemailer/lib/mail-composer';
import { BadInputError } from '../../core/errors.js';
import type { MailAddress, OutgoingMail } from '../../core/mail.js';
import type { MailComposer as MailComposerPort } from '../../core/ports.js';
import MimeNode from 'nodemailer/lib/mime-node';
import { buildMimeSync } from './build-sync.js';
import { checkHeader, checkHeaderBlock } from './headers.js';
import { isAlternativeOnly, writeAlternativeSync } from './write-alternative.js';

/**
 * Writes an OutgoingMail as RFC 5322 bytes with nodemailer's MailComposer. Deterministic: every
 * value nodemailer would otherwise pick at random or from the clock is fixed from the mail itself
 * (Message-ID, Date, multipart boundaries), and no X-Mailer is added (only nodemailer's transport
 * layer adds one). A retried relay therefore sends byte-identical MIME, and the archived raw
 * message hashes the same every time.
 */

rememberNormalizedHeaderKeys();
shareBaseBoundary();

/**
 * nodemailer spells out a header name (three regular expressions) each time it sets or looks up a
 * header, many times per header of every mail; the spelling depends on the name alone. Remembering
 * it took a sixth of the composer thread's time off. The method is nodemailer's own (internal, so
 * this checks it is there); the bytes it leads to are the same, as composer.test.ts shows.
 */
function rememberNormalizedHeaderKeys(): void {
  const proto = MimeNode.prototype as unknown as { _normalizeHeaderKey?: (key: unknown) => string };
  const spell = proto._normalizeHeaderKey;
  if (typeof spell !== 'function' || 'unremembered' in spell) return;
  const known = new Map<string, string>();
  const remembered = function (this: unknown, key: unknown): string {
    if (typeof key !== 'string') return spell.call(this, key);
    let spelled = known.get(key);
    if (spelled === undefined) {
      spelled = spell.call(this, key);
      // Header names come from code, not from clients; the bound only guards against surprises.
      if (known.size < 4096) known.set(key, spelled);
    }
    return spelled;
  };
  proto._normalizeHeaderKey = Object.assign(remembered, { unremembered: spell });
}

/**
 * A MimeNode made without a base boundary draws one at random (a system call on every draw), and
 * MailComposer gives ours to the root alone: each part of a mail drew one, about 15 µs of the 250
 * a text mail took to build, compose and seal. Only the root's is ever written (a part's boundary
 * is the root's base and the part's number), so a child is handed the root's and draws nothing.
 * The bytes are the same; composer.test.ts checks that no mail draws.
 */
function shareBaseBoundary(): void {
  type Node = { rootNode: { baseBoundary: string } };
  type CreateChild = (this: Node, contentType?: unknown, options?: unknown) => unknown;
  const proto = MimeNode.prototype as unknown as { createChild?: CreateChild & { unshared?: CreateChild } };
  const create = proto.createChild;
  if (typeof create !== 'function' || create.unshared !== undefined) return;
  const shared: CreateChild = function (contentType, options) {
    // createChild(options) is nodemailer's other way of calling it.
    if (options === undefined && typeof contentType === 'object' && contentType !== null) [contentType, options] = [undefined, contentType];
    const given = (options ?? {}) as { baseBoundary?: unknown };
    return create.call(this, contentType, given.baseBoundary === undefined ? { ...given, baseBoundary: this.rootNode.baseBoundary } : given);
  };
  proto.createChild = Object.assign(shared, { unshared: create });
}

// Header fields the composer writes itself from OutgoingMail's typed fields; a custom header with
// one of these names would duplicate or contradict them.
const reservedFields = new Set([
  'from', 'sender', 'to', 'cc', 'bcc', 'reply-to', 'subject', 'date', 'message-id', 'in-reply-to', 'references',
  'mime-version', 'content-type', 'content-transfer-encoding', 'content-disposition', 'content-id', 'x-mailer',
]);

// RFC 5322 3.6.4 msg-id without the brackets: dot-atom-text "@" dot-atom-text.
const atext = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
const msgIdPattern = new RegExp(`^${atext}(?:\\.${atext})*@${atext}(?:\\.${atext})*$`);

function checkMessageId(field: string, id: string): string {
  checkHeader(field, id);
  if (!msgIdPattern.test(id)) throw new BadInputError('message_id_invalid', `the ${field} header needs ids of the form local@domain without brackets`);
  return `<${id}>`;
}

function toAddress(field: string, address: MailAddress): { name: string; address: string } {
  return { name: checkHeader(field, address.name ?? ''), address: checkHeader(field, address.address) };
}

function customHeaders(headers: OutgoingMail['headers']): Array<{ key: string; value: string }> {
  return headers.map(({ key, value }) => {
    if (reservedFields.has(key.toLowerCase())) {
      throw new BadInputError('header_reserved', `the ${key} header is written by the composer and cannot be given as a custom header`);
    }
    return { key, value: checkHeader(key, value) };
  });
}

function toAttachment(attachment: OutgoingMail['attachments'][number]): MailComposerAttachment {
  return {
    filename: checkHeader('Content-Disposition', attachment.fileName),
    contentType: checkHeader('Content-Type', attachment.contentType),
    contentDisposition: 'attachment',
    contentTransferEncoding: 'base64',
    content: attachment.content,
  };
}

/**
 * The shared part of every multipart boundary, from a hash of the Message-ID and the whole
 * content. Because it depends on the content, no text a client sends can contain the boundary
 * of the mail it ends up in (RFC 2046 5.1.1 requires the boundary not to occur in the parts).
 */
function baseBoundary(mail: OutgoingMail): string {
  const hash = createHash('sha256').update(`wa-bridge:boundary:v1:${mail.messageId}\n`);
  hash.update(mail.text).update('\n').update(mail.html);
  for (const attachment of mail.attachments) {
    hash.update(`\n${attachment.fileName}\n${attachment.contentType}\n${attachment.content.length}\n`).update(attachment.content);
  }
  return hash.digest('hex').slice(0, 32);
}

/**
 * nodemailer re-cases header names ("X-WhatsApp-Chat-Id" would go out as "X-Whatsapp-Chat-ID");
 * names are case-insensitive (RFC 5322 1.2.2), but tools and people grep for the spelling we use.
 */
function keepSpelling(headers: Array<{ key: string }>): (key: string) => string {
  const spelling = new Map(headers.map(({ key }) => [key.toLowerCase(), key]));
  return (key) => spelling.get(key.toLowerCase()) ?? key;
}

function toComposerOptions(mail: OutgoingMail, headers: Array<{ key: string }>): MailComposerOptions {
  return {
    from: toAddress('From', mail.from),
    to: mail.to.map((address) => toAddress('To', address)),
    replyTo: toAddress('Reply-To', mail.replyTo),
    subject: checkHeader('Subject', mail.subject),
    messageId: checkMessageId('Message-ID', mail.messageId),
    date: mail.date,
    ...(mail.inReplyTo === undefined ? {} : { inReplyTo: checkMessageId('In-Reply-To', mail.inReplyTo) }),
    ...(mail.references.length === 0 ? {} : { references: mail.references.map((id) => checkMessageId('References', id)) }),
    text: mail.text,
    html: mail.html,
    attachments: mail.attachments.map(toAttachment),
    baseBoundary: baseBoundary(mail),
    boundaryPrefix: '--_wab',
    normalizeHeaderKey: keepSpelling(headers),
    // SMTP and the mailbox expect CRLF line ends throughout (RFC 5322 2.1).
    newline: 'win',
    // Content always comes as bytes; never let a value be read as a file path or a URL to fetch.
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

/**
 * The mail's MIME tree as nodemailer compiles it, with every value fixed from the mail. Throws
 * BadInputError when a header value holds CR/LF (`header_injection`), a header name or
 * Message-ID is malformed, or the date is not valid.
 */
export function compileMail(mail: OutgoingMail): MimeNode {
  const { options, headers } = checkedOptions(mail);
  return compileOptions(options, headers);
}

/** The composer's options for the mail, every value checked (the throws of compileMail). */
function checkedOptions(mail: OutgoingMail): { options: MailComposerOptions; headers: Array<{ key: string; value: string }> } {
  if (Number.isNaN(mail.date.getTime())) throw new BadInputError('date_invalid', 'the mail has no valid Date');
  const headers = customHeaders(mail.headers);
  return { options: toComposerOptions(mail, headers), headers };
}

function compileOptions(options: MailComposerOptions, headers: Array<{ key: string; value: string }>): MimeNode {
  const root = new MailComposer(options).compile();
  // Added after compile() so they follow the addressing fields instead of preceding them.
  root.addHeader(headers);
  return root;
}

/**
 * The mail's bytes: a text and an HTML part with nothing attached (nearly every relayed mail) are
 * written directly, anything else through nodemailer's tree; both give the same bytes.
 */
function writeMail(mail: OutgoingMail): Buffer {
  const { options, headers } = checkedOptions(mail);
  if (isAlternativeOnly(options)) return writeAlternativeSync({ options, headers });
  return buildMimeSync(compileOptions(options, headers));
}

export class DeterministicComposer implements MailComposerPort {
  /**
   * Composes the mail's MIME bytes. Pure apart from CPU: no I/O, no clock, no randomness; the same
   * mail always gives the same bytes. Throws BadInputError as compileMail does, and when the
   * written header block is not pure ASCII; nothing is sent in that case.
   */
  async compose(mail: OutgoingMail): Promise<Buffer> {
    return this.composeNow(mail);
  }

  /** compose(), in one synchronous pass. */
  composeNow(mail: OutgoingMail): Buffer {
    const raw = writeMail(mail);
    checkHeaderBlock(raw);
    return raw;
  }
}
