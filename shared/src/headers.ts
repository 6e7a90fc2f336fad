/**
 * The machine-readable headers on every mirrored mail. The server writes them; the Outlook add-in
 * and Teams tab read them to find the conversation behind a mail, so the names live here once.
 */
export const mailHeaders = {
  chatId: 'X-WhatsApp-Chat-Id',
  messageId: 'X-WhatsApp-Message-Id',
  direction: 'X-WhatsApp-Direction',
  from: 'X-WhatsApp-From',
  event: 'X-WhatsApp-Event',
  type: 'X-WhatsApp-Type',
  /** On edits, deletions and reactions: the message they change. */
  targetMessageId: 'X-WhatsApp-Target-Message-Id',
  matterRef: 'X-Matter-Ref',
  archiveHash: 'X-Archive-Hash',
} as const;

export type MailHeaderName = (typeof mailHeaders)[keyof typeof mailHeaders];

/** A chat id as carried in X-WhatsApp-Chat-Id: 26 lower-case base32 characters. */
export const chatIdPattern = /^[a-z2-7]{26}$/;

/** A WhatsApp message id as carried in X-WhatsApp-Message-Id: printable ASCII without spaces. */
const waMessageIdPattern = /^[\x21-\x7e]{1,256}$/;

/** Reads the chat id from a raw header block (as office-js getAllInternetHeadersAsync returns it). */
export function chatIdFromHeaders(rawHeaders: string): string | undefined {
  return headerValue(rawHeaders, mailHeaders.chatId, chatIdPattern);
}

/**
 * Reads the WhatsApp message id a mirrored mail is about (its X-WhatsApp-Message-Id), so the
 * conversation can be opened at that message. The chat's cover mail has none.
 */
export function waMessageIdFromHeaders(rawHeaders: string): string | undefined {
  return headerValue(rawHeaders, mailHeaders.messageId, waMessageIdPattern);
}

/** The first header of this name, unfolded and trimmed, when it has the expected form. */
function headerValue(rawHeaders: string, name: MailHeaderName, pattern: RegExp): string | undefined {
  const unfolded = rawHeaders.replace(/\r?\n[ \t]+/g, ' ');
  for (const line of unfolded.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    if (line.slice(0, colon).trim().toLowerCase() !== name.toLowerCase()) continue;
    const value = line.slice(colon + 1).trim();
    return pattern.test(value) ? value : undefined;
  }
  return undefined;
}
