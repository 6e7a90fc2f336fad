import type { InboundEvent } from '../events.js';
import type { EventRecord } from '../records.js';
import { renderContent, type RenderContext } from './content.js';
import { note } from './html.js';
import type { EventBody } from './layout.js';
import { renderQuote } from './quote.js';

type MessageEvent = Extract<InboundEvent, { kind: 'message' }>;

function forwardNote(event: MessageEvent): string | null {
  if (event.frequentlyForwarded === true) return 'Forwarded many times';
  if (event.forwarded === true) return 'Forwarded';
  return null;
}

/**
 * A new WhatsApp message. A reply to an earlier message shows that message as a quote, or says
 * it is not in the archive (it predates the bridge, or came from another device's history).
 */
export function renderMessage(event: MessageEvent, context: RenderContext, related: EventRecord | undefined, timeZone: string): EventBody {
  const content = renderContent(event.content, context);
  const forwarded = forwardNote(event);
  const quote = event.quoted === undefined ? null : renderQuote('In reply to:', related, '(quoted message not in the archive)', timeZone);
  const text = [...(forwarded === null ? [] : [`[${forwarded}]`]), ...(quote === null ? [] : [quote.text, '']), content.text];
  const html = [...(forwarded === null ? [] : [note(forwarded)]), ...(quote === null ? [] : [quote.html]), content.html];
  return { label: 'Message', text: text.join('\n'), html: html.join('\n'), attachments: content.attachments };
}
