import type { AddressObject, ParsedMail } from 'mailparser';
import type { InboundEmailReply } from '../../core/email-reply.js';
import { safeFileName, safeMimeType } from '../../core/file-name.js';
import { toHeaderText } from '../../core/header-text.js';

export type ReplyTextExtractor = (body: { text?: string; html?: string; subject?: string }) => string;

const bracketless = (id: string | undefined | null): string | null => (id ? id.trim().replace(/^<|>$/g, '') : null);

function firstAddress(value: AddressObject | AddressObject[] | undefined): { address: string; name: string } | null {
  const list = Array.isArray(value) ? value : value ? [value] : [];
  for (const group of list) {
    for (const entry of group.value) {
      // The display name becomes the author of the WhatsApp reply and a header of its mirrored
      // mail; an encoded word can carry line breaks and controls into it, so it is cleaned here.
      if (entry.address) return { address: entry.address.toLowerCase(), name: toHeaderText(entry.name ?? '') };
    }
  }
  return null;
}

function headerText(mail: ParsedMail, name: string): string | null {
  const value = mail.headers.get(name);
  if (value === undefined || value === null) return null;
  return (typeof value === 'string' ? value : JSON.stringify(value)).trim().toLowerCase();
}

/**
 * The parsed mail as the reply flow needs it: addresses, the loop and auto-reply signals, the text
 * the person wrote (quotes and signature stripped) and the attachments a person attached (inline
 * images referenced from the HTML, such as signature logos, are left out).
 */
export function toInboundReply(mail: ParsedMail, envelope: { from: string; to: string[] }, extract: ReplyTextExtractor): InboundEmailReply {
  const references = Array.isArray(mail.references) ? mail.references : mail.references ? [mail.references] : [];
  const html = typeof mail.html === 'string' ? mail.html : undefined;
  const contentType = headerText(mail, 'content-type') ?? '';
  return {
    envelopeFrom: envelope.from.toLowerCase(),
    recipients: envelope.to.map((address) => address.toLowerCase()),
    from: firstAddress(mail.from),
    messageId: bracketless(mail.messageId),
    inReplyTo: bracketless(mail.inReplyTo),
    references: references.map((r) => bracketless(r)).filter((r): r is string => r !== null),
    autoSubmitted: headerText(mail, 'auto-submitted'),
    precedence: headerText(mail, 'precedence'),
    isAutoReplyByHeaders: mail.headers.has('x-autoreply') || mail.headers.has('x-autorespond') || (headerText(mail, 'x-auto-response-suppress') === 'all' && /^(automatic reply|auto:|out of office)/i.test(mail.subject ?? '')),
    isReport: contentType.includes('multipart/report'),
    hasBridgeHeaders: mail.headers.has('x-whatsapp-message-id') || mail.headers.has('x-whatsapp-event'),
    text: extract({ ...(mail.text ? { text: mail.text } : {}), ...(html ? { html } : {}), ...(mail.subject ? { subject: mail.subject } : {}) }),
    attachments: mail.attachments
      .filter((a) => !(a.related || (a.contentDisposition === 'inline' && a.cid && html?.includes(`cid:${a.cid}`))))
      .map((a, i) => ({ fileName: safeFileName(a.filename ?? '', `attachment-${i + 1}`), mimeType: safeMimeType(a.contentType || 'application/octet-stream'), bytes: a.content })),
  };
}
