/**
 * OutgoingMail: everything the composer needs to write one MIME message, derived only from stored
 * facts so that composing the same event twice yields the same bytes.
 */
export interface MailAddress {
  name?: string;
  address: string;
}

export interface MailAttachment {
  /** Safe file name (no path, no control characters). */
  fileName: string;
  contentType: string;
  content: Buffer;
}

export interface OutgoingMail {
  /** Without angle brackets: `m.<base32>@<mail domain>`. */
  messageId: string;
  date: Date;
  from: MailAddress;
  to: MailAddress[];
  replyTo: MailAddress;
  subject: string;
  /** Header fields beyond the addressing ones, in order: Thread-Topic, Thread-Index, X-WhatsApp-*, ... */
  headers: Array<{ key: string; value: string }>;
  /** Without angle brackets. */
  inReplyTo?: string;
  /** Without angle brackets, root first, parent last. */
  references: string[];
  text: string;
  html: string;
  attachments: MailAttachment[];
}
