import type { SharedContact } from '../events.js';
import { safeFileName } from '../file-name.js';
import { truncateText } from '../header-text.js';
import type { MailAttachment } from '../mail.js';
import { toVCard } from '../vcard.js';
import type { ContentOf, RenderedContent } from './content.js';
import { escapeHtml, oneLine, paragraph } from './html.js';

/** A contact's name as the mail and the conversation view show it. */
export function contactName(contact: SharedContact): string {
  const name = oneLine(contact.formattedName, 200);
  return name === '' ? 'Unnamed contact' : name;
}

/** Title, company and department, as far as the card gives them; null when it gives none. */
export function contactOrganisation(contact: SharedContact): string | null {
  const org = [contact.org?.title, contact.org?.company, contact.org?.department].filter((v): v is string => v !== undefined && v !== '');
  return org.length === 0 ? null : oneLine(org.join(', '), 1024);
}

function detailLines(contact: SharedContact): string[] {
  const org = contactOrganisation(contact);
  return [
    ...contact.phones.map((p) => `Phone: ${oneLine(p.phone, 64)}`),
    ...contact.emails.map((e) => `Email: ${oneLine(e.email, 512)}`),
    ...(org === null ? [] : [`Organisation: ${org}`]),
  ];
}

/**
 * One .vcf per contact (Outlook opens only the first card of a multi-card file), named after the
 * contact; a repeated name gets " (2)", " (3)" so no attachment hides another.
 */
function toAttachments(contacts: SharedContact[]): MailAttachment[] {
  const used = new Set<string>();
  return contacts.map((contact) => {
    // Room for a " (n)" suffix inside the 120-character limit of safeFileName.
    const stem = truncateText(safeFileName(`${contactName(contact)}.vcf`, 'contact.vcf').slice(0, -'.vcf'.length), 110);
    let fileName = `${stem}.vcf`;
    for (let n = 2; used.has(fileName.toLowerCase()); n++) fileName = `${stem} (${n}).vcf`;
    used.add(fileName.toLowerCase());
    return { fileName, contentType: 'text/vcard; charset=utf-8', content: Buffer.from(toVCard(contact), 'utf8') };
  });
}

/** Shared contact cards: a readable summary of each, and the cards themselves as .vcf files. */
export function renderContacts(content: ContentOf<'contacts'>): RenderedContent {
  const attachments = toAttachments(content.contacts);
  const blocks = content.contacts.map((contact, i) => ({
    name: contactName(contact),
    details: detailLines(contact),
    file: attachments[i]?.fileName ?? '',
  }));
  const heading = content.contacts.length === 1 ? 'Contact card' : `${content.contacts.length} contact cards`;
  const text = [`[${heading}]`, ...blocks.flatMap((b) => ['', b.name, ...b.details, `Attached: ${b.file}`])];
  const html = [
    paragraph(`<strong>${escapeHtml(heading)}</strong>`),
    ...blocks.map((b) => paragraph([`<strong>${escapeHtml(b.name)}</strong>`, ...b.details.map(escapeHtml), `Attached: ${escapeHtml(b.file)}`].join('<br>\n'))),
  ];
  return {
    summary: oneLine(`[${heading}: ${blocks.map((b) => b.name).join(', ')}]`),
    text: text.join('\n'),
    html: html.join('\n'),
    attachments,
  };
}
