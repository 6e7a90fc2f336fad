/**
 * A solicitor's email as the inbound mail adapter hands it over: envelope, the headers the
 * checks need, and the reply text with quoted history and signature already stripped.
 */
export interface InboundEmailReply {
  /** SMTP MAIL FROM; empty for a bounce (RFC 5321 4.5.5). */
  envelopeFrom: string;
  /** SMTP RCPT TO addresses, lower-cased. */
  recipients: string[];
  from: { address: string; name: string } | null;
  /** Without angle brackets. */
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  /** RFC 3834 Auto-Submitted value, lower-cased; absent means a person sent it. */
  autoSubmitted: string | null;
  /** RFC 2076 Precedence (bulk, junk, list) and Microsoft's X-Auto-Response-Suppress / auto-reply markers. */
  precedence: string | null;
  isAutoReplyByHeaders: boolean;
  /** A delivery or disposition report (multipart/report) rather than a person's mail. */
  isReport: boolean;
  /** The mail carries the bridge's own X-WhatsApp-* headers: one of our mails coming back. */
  hasBridgeHeaders: boolean;
  text: string;
  attachments: Array<{ fileName: string; mimeType: string; bytes: Buffer }>;
}

export type EmailReplyOutcome =
  | { outcome: 'accepted'; commandId: number }
  | { outcome: 'refused'; commandId: number; reason: string }
  | { outcome: 'ignored'; reason: string }
  | { outcome: 'rejected'; reason: string };

/** `wa+<chat token>.<mac>@<mail domain>` → its parts, or undefined. */
export function parseReplyAddress(address: string, mailDomain: string): { chatToken: string; token: string } | undefined {
  const match = /^wa\+(([a-z2-7]{26})\.[a-z2-7]{16})@(.+)$/.exec(address.trim().toLowerCase());
  if (!match || match[3] !== mailDomain.toLowerCase()) return undefined;
  return { chatToken: match[2]!, token: match[1]! };
}

/** Allowed senders: exact addresses, or `@domain` / `domain` for a whole domain. */
export function isAllowedSender(address: string, allowed: string[]): boolean {
  const lower = address.trim().toLowerCase();
  const domain = lower.split('@')[1];
  if (!domain || lower.split('@').length !== 2) return false;
  return allowed.some((entry) => {
    const rule = entry.trim().toLowerCase();
    if (rule.includes('@') && !rule.startsWith('@')) return rule === lower;
    return domain === rule.replace(/^@/, '');
  });
}
