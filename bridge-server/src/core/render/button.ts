import type { ContentOf, RenderedContent } from './content.js';
import { labelled, oneLine } from './html.js';

/** A tap on a quick-reply button of a template message the firm sent. */
export function renderButton(content: ContentOf<'button'>): RenderedContent {
  const lines = [`[Button] ${oneLine(content.text, 4096)}`];
  const html = [labelled('Button pressed:', content.text)];
  if (content.payload !== undefined && content.payload !== '') {
    lines.push(`Payload: ${oneLine(content.payload, 4096)}`);
    html.push(labelled('Payload:', content.payload));
  }
  return { summary: oneLine(`[Button] ${content.text}`), text: lines.join('\n'), html: html.join('\n'), attachments: [] };
}
