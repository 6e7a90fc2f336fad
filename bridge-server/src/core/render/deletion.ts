import type { EventRecord } from '../records.js';
import { escapeHtml, paragraph } from './html.js';
import type { EventBody } from './layout.js';
import { renderQuote } from './quote.js';

/**
 * "Deleted for everyone". Deleting on WhatsApp does not delete the record: the archive keeps the
 * original, and the mail shows it so the thread stays readable as evidence.
 */
export function renderDeletion(actor: string, related: EventRecord | undefined, timeZone: string): EventBody {
  const statement = `${actor} deleted this message for everyone.`;
  const original = renderQuote('The archive keeps the original:', related, '(the original message is not in the archive)', timeZone);
  return {
    label: 'Deleted message',
    text: [statement, '', original.text].join('\n'),
    html: [paragraph(`<strong>${escapeHtml(statement)}</strong>`), original.html].join('\n'),
    attachments: [],
  };
}
