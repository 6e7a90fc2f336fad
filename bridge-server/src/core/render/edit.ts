import type { InboundEvent } from '../events.js';
import type { EventRecord } from '../records.js';
import { renderContent, type RenderContext } from './content.js';
import { escapeHtml, paragraph } from './html.js';
import type { EventBody } from './layout.js';
import { renderQuote } from './quote.js';

type EditEvent = Extract<InboundEvent, { kind: 'edit' }>;

/**
 * An edited message: the new version first, then the version it replaces. The archive keeps
 * both; this mail is a new one (its own Message-ID), never a rewrite of the original mail.
 */
export function renderEdit(event: EditEvent, actor: string, context: RenderContext, related: EventRecord | undefined, timeZone: string): EventBody {
  const content = renderContent(event.content, context);
  const intro = `${actor} edited a message. New version:`;
  const original = renderQuote('Original version:', related, '(the original message is not in the archive)', timeZone);
  return {
    label: 'Edited message',
    text: [intro, content.text, '', original.text].join('\n'),
    html: [paragraph(`<strong>${escapeHtml(intro)}</strong>`), content.html, original.html].join('\n'),
    attachments: content.attachments,
  };
}
