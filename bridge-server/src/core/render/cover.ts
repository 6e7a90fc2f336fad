import { paragraph, escapeHtml } from './html.js';
import type { EventBody } from './layout.js';

/**
 * The "conversation opened" cover mail. It carries the chat's root Message-ID so that the root
 * every later mail references exists in the mailbox (RFC 5322 3.6.4), and tells the reader
 * what this thread is and how replying works.
 */
export function renderCover(client: string, firmNumber: string): EventBody {
  const sentences = [
    `This thread mirrors the WhatsApp chat with ${client} on the firm's WhatsApp number ${firmNumber}. Every message, edit, deletion and reaction in that chat arrives here as its own email.`,
    'Replying to any email in this thread sends your reply to the client on WhatsApp. Keep the subject as it is, so the thread stays together.',
  ];
  return {
    label: 'Conversation opened',
    text: sentences.join('\n\n'),
    html: sentences.map((s) => paragraph(escapeHtml(s))).join('\n'),
    attachments: [],
  };
}
