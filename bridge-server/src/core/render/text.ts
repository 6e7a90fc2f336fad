import { cleanText, oneLine, textParagraph } from './html.js';
import type { ContentOf, RenderedContent } from './content.js';

/** A text message: the body as written (WhatsApp's *bold* and _italic_ markers kept verbatim). */
export function renderText(content: ContentOf<'text'>): RenderedContent {
  return { summary: oneLine(content.body), text: cleanText(content.body), html: textParagraph(content.body), attachments: [] };
}
