import type { InboundEvent } from '../events.js';
import { oneLine } from './html.js';
import type { EventRecord } from '../records.js';
import type { EventBody } from './layout.js';
import { renderQuote } from './quote.js';

type ReactionEvent = Extract<InboundEvent, { kind: 'reaction' }>;

/** A reaction added ("reacted 👍 to:") or removed, with the message it concerns. */
export function renderReaction(event: ReactionEvent, actor: string, related: EventRecord | undefined, timeZone: string): EventBody {
  const emoji = event.emoji === null ? '' : oneLine(event.emoji, 64);
  const intro = emoji === '' ? `${actor} removed their reaction from:` : `${actor} reacted ${emoji} to:`;
  const quote = renderQuote(intro, related, '(message not in the archive)', timeZone);
  return { label: emoji === '' ? 'Reaction removed' : 'Reaction', text: quote.text, html: quote.html, attachments: [] };
}
