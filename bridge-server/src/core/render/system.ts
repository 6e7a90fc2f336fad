import { formatPhone } from '@wa-bridge/shared/phone';
import type { ContentOf, RenderedContent } from './content.js';
import { cleanText, labelled, oneLine, paragraph, textParagraph } from './html.js';

/** A WhatsApp system notice in the chat (number changed, security code changed, ...). */
export function renderSystem(content: ContentOf<'system'>): RenderedContent {
  const newNumber = content.newWaId === undefined ? null : formatPhone(content.newWaId);
  const text = ['[WhatsApp notice]', cleanText(content.body), ...(newNumber === null ? [] : [`New number: ${newNumber}`])];
  const html = [paragraph('<strong>WhatsApp notice</strong>'), textParagraph(content.body), ...(newNumber === null ? [] : [labelled('New number:', newNumber)])];
  return { summary: oneLine(`[WhatsApp notice] ${content.body}`), text: text.join('\n'), html: html.join('\n'), attachments: [] };
}
