import { outboundCommandSchema, type OutboundCommand } from '../core/commands.js';
import { isAllowedSender, parseReplyAddress, type EmailReplyOutcome, type InboundEmailReply } from '../core/email-reply.js';
import { WindowClosedError } from '../core/errors.js';
import { isReplyTokenValid, parseChatToken, sha256 } from '../core/ids.js';
import type { BlobStore } from '../core/ports.js';
import { submitReply, type ReplyDeps } from './reply.js';

export interface EmailReplyDeps extends ReplyDeps {
  blobs: BlobStore;
  mailDomain: string;
  replySecret: Uint8Array;
  /** Firm addresses and domains whose replies may reach clients. */
  allowedSenders: string[];
}

/**
 * Turns a solicitor's email reply into a WhatsApp reply. Never relays: auto-replies, bounces,
 * reports and our own mails coming back (ignored, so no loop answers them); mail to a reply
 * address the bridge did not issue, or from anyone outside the firm (rejected). A reply outside
 * the 24-hour window is stored as refused, and a notice mail tells the solicitor what to do.
 */
export async function handleEmailReply(deps: EmailReplyDeps, reply: InboundEmailReply): Promise<EmailReplyOutcome> {
  const automatic = automaticReason(reply);
  if (automatic) return { outcome: 'ignored', reason: automatic };

  const conversation = await findConversation(deps, reply.recipients);
  if (!conversation) return { outcome: 'rejected', reason: 'the reply address is not one this bridge issued' };
  if (!reply.from || !isAllowedSender(reply.from.address, deps.allowedSenders)) {
    return { outcome: 'rejected', reason: 'the sender is not an allowed firm address' };
  }
  if (!reply.messageId) return { outcome: 'rejected', reason: 'the mail has no Message-ID' };

  const quoted = reply.inReplyTo ? await deps.store.read((tx) => deps.store.findEventByMailId(tx, reply.inReplyTo!)) : undefined;
  const command = {
    conversationId: conversation.id,
    ...(reply.text.trim() ? { text: reply.text.trim() } : {}),
    files: reply.attachments.map((a) => ({ fileName: a.fileName, mimeType: a.mimeType, sha256: sha256(a.bytes).toString('hex'), size: a.bytes.length })),
    ...(quoted && quoted.kind === 'message' ? { quotedWaMessageId: quoted.waMessageId } : {}),
    author: { name: reply.from.name || reply.from.address, address: reply.from.address },
    source: { kind: 'email' as const, ref: reply.messageId },
  };
  // A mail WhatsApp could never carry (nothing to send, text over its limit, too many files) is
  // refused as the sender's mistake, before any attachment is written: an error thrown from here
  // would tell the sending server to try again later, and it would, for days.
  const unsendable = unsendableReason(command);
  if (unsendable) return { outcome: 'rejected', reason: unsendable };
  for (const attachment of reply.attachments) await deps.blobs.put(attachment.bytes);
  try {
    const accepted = await submitReply(deps, command);
    return { outcome: 'accepted', commandId: accepted.commandId };
  } catch (error) {
    if (!(error instanceof WindowClosedError)) throw error;
    const commandId = await deps.store.transaction(async (tx) => {
      const stored = await deps.store.insertOutbound(tx, command);
      if (stored.created) {
        await deps.store.setOutboundState(tx, stored.id, 'failed', { code: error.code, message: error.message });
        await deps.store.enqueue(tx, { kind: 'mail.notice', payload: { conversationId: conversation.id, commandId: stored.id }, conversationId: conversation.id, sortKey: 0 });
      }
      return stored.id;
    });
    return { outcome: 'refused', commandId, reason: error.message };
  }
}

// What each field of the command is, in the words of the person whose mail it came from.
const fieldNames: Record<string, string> = { text: 'the text', files: 'the attachments', author: 'the sender', source: 'the Message-ID' };

function unsendableReason(command: OutboundCommand): string | undefined {
  const parsed = outboundCommandSchema.safeParse(command);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${fieldNames[String(issue.path[0])] ?? String(issue.path[0])}: ${issue.message}`);
    return `the reply cannot be sent on WhatsApp (${[...new Set(problems)].join('; ')})`;
  }
  if (!command.text && command.files.length === 0) return 'the reply has no text of its own and no attachments, so there is nothing to send to the client';
  return undefined;
}

function automaticReason(reply: InboundEmailReply): string | undefined {
  if (reply.envelopeFrom === '') return 'a bounce (empty envelope sender)';
  if (reply.isReport) return 'a delivery or read report';
  if (reply.autoSubmitted !== null && reply.autoSubmitted !== 'no') return `an automatic mail (Auto-Submitted: ${reply.autoSubmitted})`;
  if (reply.precedence !== null && ['bulk', 'junk', 'list', 'auto_reply'].includes(reply.precedence)) return `an automatic mail (Precedence: ${reply.precedence})`;
  if (reply.isAutoReplyByHeaders) return 'an automatic reply (out of office)';
  if (reply.hasBridgeHeaders) return "one of the bridge's own mails coming back";
  return undefined;
}

async function findConversation(deps: EmailReplyDeps, recipients: string[]) {
  for (const recipient of recipients) {
    const parsed = parseReplyAddress(recipient, deps.mailDomain);
    if (!parsed) continue;
    const chatToken = parseChatToken(parsed.chatToken);
    if (!isReplyTokenValid(deps.replySecret, chatToken, parsed.token)) continue;
    const conversation = await deps.store.read((tx) => deps.store.getConversationByToken(tx, chatToken));
    if (conversation) return conversation;
  }
  return undefined;
}
