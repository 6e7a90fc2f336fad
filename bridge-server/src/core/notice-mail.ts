import { mailHeaders } from '@wa-bridge/shared/headers';
import { formatPhone } from '@wa-bridge/shared/phone';
import { toHeaderText } from './header-text.js';
import { base32, sha256 } from './ids.js';
import type { MailAddress, OutgoingMail } from './mail.js';
import type { ConversationRecord, OutboundRecord } from './records.js';
import { escapeHtml, htmlLines, paragraph, quoteBlock, quoteText, textParagraph } from './render/html.js';
import { layoutMail } from './render/layout.js';
import { chatGuid, references, rootMailId, threadIndex } from './threading.js';
import { formatZonedTime } from './zoned-time.js';

export interface NoticeMailInput {
  tenant: string;
  mailDomain: string;
  mailbox: string;
  replyAddress: string;
  conversation: ConversationRecord;
  /** The failed reply, with its error code and message. */
  record: OutboundRecord;
  templates: Array<{ name: string; language: string }>;
  /** The firm's zone (IANA name) for the times in the body. */
  timeZone: string;
}

/** What a solicitor can do about each way a reply fails. */
const advice: Record<string, string> = {
  window_closed:
    'Send one of the approved WhatsApp templates from the Outlook add-in or the Teams tab, or ask the client to write to the firm first (by phone or email). Once the client writes, you can reply freely for 24 hours.',
  send_refused: "Check the client's WhatsApp number in the conversation, then send your reply again. If it fails again, ask IT to look at the bridge's jobs (wa-bridge jobs list).",
  delivery_failed: "WhatsApp accepted the message but could not deliver it. Check that the client's number still uses WhatsApp, then send your reply again.",
};

/** The notice's id: fixed by the reply and the way it failed, so a retried notice is the same mail. */
export function noticeMailId(tenant: string, record: OutboundRecord, domain: string): string {
  return `notice.${base32(sha256(`wa-bridge:v1:${tenant}:notice:${record.id}:${record.errorCode ?? 'failed'}`)).slice(0, 26)}@${domain}`;
}

/**
 * A mail in the chat's thread telling the solicitor their reply did not reach the client: why,
 * and what to do. Addressed to the solicitor and the firm mailbox (so the archive has it too),
 * threaded under the solicitor's own email when the reply came by email.
 */
export function buildNoticeMail(input: NoticeMailInput): OutgoingMail {
  const { conversation, record } = input;
  const command = record.command;
  const root = rootMailId(conversation.chatToken, input.mailDomain);
  const messageId = noticeMailId(input.tenant, record, input.mailDomain);
  const repliedTo = command.source.kind === 'email' && /^[^<>\s@]+@[^<>\s@]+$/.test(command.source.ref) ? command.source.ref : undefined;
  const client = conversation.clientName ?? formatPhone(conversation.clientWaId ?? '') ?? conversation.clientUserId ?? 'the client';
  const why = record.errorMessage ?? 'WhatsApp did not accept the message.';
  const todo = advice[record.errorCode ?? ''] ?? advice.send_refused!;
  const templates = record.errorCode === 'window_closed' && input.templates.length > 0 ? input.templates.map((t) => `${t.name} (${t.language})`) : [];
  const yours = [command.text?.trim() ?? '', ...command.files.map((f) => `[file: ${f.fileName}]`)].filter(Boolean).join('\n');

  const text = [
    `Your reply to ${client} was NOT sent on WhatsApp.`,
    '',
    `Why: ${why}`,
    '',
    `What to do: ${todo}`,
    ...(templates.length > 0 ? ['', `Approved templates: ${templates.join(', ')}`] : []),
    ...(yours ? ['', 'Your reply, as the bridge received it:', quoteText(yours)] : []),
  ].join('\n');
  const html = [
    paragraph(`<strong>Your reply to ${escapeHtml(client)} was not sent on WhatsApp.</strong>`),
    paragraph(`<strong>Why:</strong> ${htmlLines(why)}`),
    paragraph(`<strong>What to do:</strong> ${htmlLines(todo)}`),
    ...(templates.length > 0 ? [paragraph(`<strong>Approved templates:</strong> ${escapeHtml(templates.join(', '))}`)] : []),
    ...(yours ? [textParagraph('Your reply, as the bridge received it:'), quoteBlock(htmlLines(yours))] : []),
  ].join('\n');
  const body = layoutMail({
    subject: conversation.subject,
    rows: [
      ['Reply by', `${command.author.name} <${command.author.address}>`],
      ['Failed at', formatZonedTime(record.updatedAt, input.timeZone)],
    ],
    body: { label: 'Reply not sent', text, html, attachments: [] },
  });
  const to: MailAddress[] = [{ address: input.mailbox }];
  if (command.author.address && command.author.address !== input.mailbox) to.unshift({ name: toHeaderText(command.author.name), address: command.author.address });
  const header = (key: string, value: string) => ({ key, value: toHeaderText(value) });
  return {
    messageId,
    date: new Date(record.updatedAt),
    from: { name: 'WhatsApp bridge', address: input.replyAddress },
    to,
    replyTo: { address: input.replyAddress },
    subject: toHeaderText(conversation.subject),
    headers: [
      header('Thread-Topic', conversation.subject),
      header('Thread-Index', threadIndex(chatGuid(conversation.chatToken), conversation.openedAt, record.updatedAt, messageId)),
      header(mailHeaders.chatId, conversation.chatToken),
      header(mailHeaders.event, 'reply-failed'),
      // RFC 3834 5.2: a response to the solicitor's own message.
      header('Auto-Submitted', 'auto-replied'),
      header('X-Auto-Response-Suppress', 'All'),
    ],
    inReplyTo: repliedTo ?? root,
    references: references(root, repliedTo ? [repliedTo] : []),
    text: body.text,
    html: body.html,
    attachments: [],
  };
}
