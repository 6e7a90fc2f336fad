import type { ContentOf, RenderedContent } from './content.js';
import { cleanText, escapeHtml, note, oneLine, paragraph } from './html.js';

/**
 * Content WhatsApp did not deliver to the bridge or that the bridge does not know. The raw payload
 * stays in the archive; the mail says plainly that something arrived that it cannot show.
 */
export function renderUnsupported(content: ContentOf<'unsupported'>): RenderedContent {
  const marker = `[unsupported WhatsApp content: ${oneLine(content.originalType, 128)}]`;
  const hasNote = content.note !== undefined && content.note !== '';
  const explanation = 'The original is kept in the archive; open the chat on WhatsApp to see it.';
  return {
    summary: marker,
    text: [marker, ...(hasNote ? [cleanText(content.note ?? '')] : []), explanation].join('\n'),
    html: [paragraph(`<strong>${escapeHtml(marker)}</strong>`), ...(hasNote ? [paragraph(escapeHtml(content.note ?? ''))] : []), note(explanation)].join('\n'),
    attachments: [],
  };
}
