import type { EventRecord } from '../records.js';
import { renderContent } from './content.js';
import { cleanText, escapeHtml, note, paragraph, quietColor, quoteBlock, quoteText, htmlLines } from './html.js';
import { formatZonedTime } from '../zoned-time.js';
import { truncateText } from '../header-text.js';

const quoteLimit = 2000;

/**
 * What a quote shows of an earlier event: a text message in full (up to 2000 characters), any
 * other content as its one-line summary.
 */
export function quotedText(record: EventRecord): string {
  const event = record.event;
  switch (event.kind) {
    case 'message':
    case 'edit':
      return event.content.type === 'text'
        ? truncateText(cleanText(event.content.body), quoteLimit)
        : renderContent(event.content, { media: [] }).summary;
    case 'deletion':
      return '(a message deletion)';
    case 'reaction':
      return event.emoji === null ? '(a removed reaction)' : `(a reaction ${event.emoji})`;
    default: {
      const unexpected: never = event;
      throw new TypeError(`no quote for event kind ${String((unexpected as { kind?: unknown }).kind)}`);
    }
  }
}

const author = (record: EventRecord): string => (record.direction === 'inbound' ? 'client' : 'firm');

export interface RenderedQuote {
  text: string;
  html: string;
}

/**
 * An introduction ("In reply to:") followed by the earlier event as a quote block, or by `missing`
 * when that event is not in the archive (sent before the bridge joined the chat, for instance).
 */
export function renderQuote(intro: string, related: EventRecord | undefined, missing: string, timeZone: string): RenderedQuote {
  if (related === undefined) {
    return { text: `${intro} ${missing}`, html: paragraph(`<strong>${escapeHtml(intro)}</strong>`) + note(missing) };
  }
  const origin = `${author(related)}, ${formatZonedTime(related.timestamp, timeZone)}`;
  const body = quotedText(related);
  return {
    text: [intro, quoteText(`(${origin})\n${body}`)].join('\n'),
    html: paragraph(`<strong>${escapeHtml(intro)}</strong>`) + quoteBlock(`<span style="font-size:12px;color:${quietColor};">${escapeHtml(origin)}</span><br>\n${htmlLines(body)}`),
  };
}
