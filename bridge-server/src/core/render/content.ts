import type { Content } from '../events.js';
import type { MailAttachment } from '../mail.js';
import type { AttachmentRecord } from '../records.js';
import { renderButton } from './button.js';
import { renderContacts } from './contacts.js';
import { renderInteractive } from './interactive.js';
import { renderLocation } from './location.js';
import { renderMedia } from './media.js';
import { renderSystem } from './system.js';
import { renderText } from './text.js';
import { renderUnsupported } from './unsupported.js';

/** One WhatsApp content item, rendered for every place a mail shows it. */
export interface RenderedContent {
  /** One line ("[Photo] at the office"), for quotes, reactions and deletions that refer to it. */
  summary: string;
  /** The text/plain rendering. */
  text: string;
  /** The HTML fragment; everything from WhatsApp is escaped. */
  html: string;
  /** Files the mail carries for this content (media, .vcf cards). */
  attachments: MailAttachment[];
}

export interface StoredMedia {
  record: AttachmentRecord;
  content: Buffer;
}

export interface RenderContext {
  /** The event's stored media, in any order; empty when rendering a quoted or earlier message. */
  media: StoredMedia[];
}

/** Renders one content item: the one place that dispatches on the content type. */
export function renderContent(content: Content, context: RenderContext): RenderedContent {
  switch (content.type) {
    case 'text':
      return renderText(content);
    case 'image':
    case 'video':
    case 'audio':
    case 'document':
    case 'sticker':
      return renderMedia(content, context.media);
    case 'location':
      return renderLocation(content);
    case 'contacts':
      return renderContacts(content);
    case 'interactive':
      return renderInteractive(content);
    case 'button':
      return renderButton(content);
    case 'unsupported':
      return renderUnsupported(content);
    case 'system':
      return renderSystem(content);
    default: {
      const unexpected: never = content;
      throw new TypeError(`no renderer for content type ${String((unexpected as { type?: unknown }).type)}`);
    }
  }
}

/** The content variant with the given type. */
export type ContentOf<T extends Content['type']> = Extract<Content, { type: T }>;
