import { toHeaderText, truncateText } from '../header-text.js';

/**
 * Escaping and the few building blocks the mail bodies are made of. Everything that came from
 * WhatsApp reaches the HTML part only through `escapeHtml`; styles are inline because mail
 * clients drop <style> blocks and must not load anything from outside.
 */

// Controls that have no business in a body; tab and line feed are kept, CR is normalized away.
const bodyControls = /(?![\t\n])\p{Cc}/gu;

/** Plain text as the text/plain part carries it: LF line breaks, no stray control characters. */
export function cleanText(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(bodyControls, '');
}

/** One line, for quotes in summaries and for reaction targets. */
export function oneLine(text: string, max = 300): string {
  return truncateText(toHeaderText(text), max);
}

const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** HTML-escapes text for element content and for quoted attribute values alike. */
export function escapeHtml(text: string): string {
  return cleanText(text).replace(/[&<>"']/g, (c) => entities[c] ?? c);
}

/** Escaped text with its line breaks kept. */
export const htmlLines = (text: string): string => escapeHtml(text).replace(/\n/g, '<br>\n');

const paragraphStyle = 'margin:0 0 10px 0;';

/**
 * A paragraph around HTML that is already escaped. `dir="auto"` lets a paragraph in Arabic or
 * Hebrew run right to left, with its punctuation and numbers where the writer put them.
 */
export const paragraph = (innerHtml: string): string => `<p dir="auto" style="${paragraphStyle}">${innerHtml}</p>`;

/** A paragraph of text from WhatsApp. */
export const textParagraph = (text: string): string => paragraph(htmlLines(text));

/** "Label: value" with the label in bold; `value` is text and gets escaped. */
export const labelled = (label: string, value: string): string => paragraph(`<strong>${escapeHtml(label)}</strong> ${htmlLines(value)}`);

/**
 * The grey of quiet text (notes, a quote's origin, the footer): 5.7:1 on white and 5.3:1 on a
 * quote's tint, over the 4.5:1 WCAG 2.1 AA asks of small text; a lighter grey (#777777) fell short.
 */
export const quietColor = '#666666';

/** A note from the bridge itself (not from WhatsApp), set apart in grey italics. */
export const note = (text: string): string => `<p style="${paragraphStyle}color:${quietColor};font-style:italic;">${escapeHtml(text)}</p>`;

/** A quote block around HTML that is already escaped, styled like a WhatsApp reply bubble. */
export const quoteBlock = (innerHtml: string): string =>
  `<blockquote style="margin:0 0 12px 0;padding:6px 12px;border-left:3px solid #25d366;background-color:#f4f6f5;color:#444444;">${innerHtml}</blockquote>`;

/** Preformatted text (flow answers), wrapped so long JSON does not widen the mail. */
export const preformatted = (text: string): string =>
  `<pre style="margin:0 0 10px 0;padding:8px;background-color:#f6f6f6;font-family:Consolas,'Courier New',monospace;font-size:12px;white-space:pre-wrap;word-break:break-all;">${escapeHtml(text)}</pre>`;

/**
 * A link. Only for URLs the bridge builds itself (map and geo: links); URLs a client sent are
 * shown as text, never made clickable, so a javascript: or look-alike link cannot be planted.
 */
export const link = (href: string, label: string): string => `<a href="${escapeHtml(href)}" style="color:#0b57d0;">${escapeHtml(label)}</a>`;

/** Plain-text quote: every line prefixed with "> ". */
export function quoteText(text: string): string {
  return cleanText(text)
    .split('\n')
    .map((line) => (line === '' ? '>' : `> ${line}`))
    .join('\n');
}

