import type { SharedContact } from './events.js';

/**
 * A contact card WhatsApp shared, written as a vCard 3.0 (RFC 2426) so Outlook and phones can
 * import it. One card per file: Outlook opens only the first card of a multi-card .vcf.
 */

// Control characters other than the line breaks that escapeText turns into "\n".
const controls = /(?![\r\n])\p{Cc}/gu;

/** RFC 2426 5 (text value type): backslash, comma, semicolon and line breaks are escaped. */
export function escapeText(value: string): string {
  return value
    .replace(controls, '')
    .replace(/\\/g, '\\\\')
    .replace(/,/g, '\\,')
    .replace(/;/g, '\\;')
    .replace(/\r\n|\r|\n/g, '\\n');
}

/** A URI value is not text-escaped (RFC 2426 5.1.3), but may not break the line. */
const cleanUri = (value: string): string => value.replace(/\p{Cc}/gu, '').trim();

/** TYPE parameter values are tokens; WhatsApp sends words like "CELL", "HOME", "WORK", "IPHONE". */
function typeParam(type: string | undefined, extra: string[] = []): string {
  const words = [...extra, ...(type ?? '').split(/[^A-Za-z0-9-]+/)].filter((w) => w !== '');
  return words.length === 0 ? '' : `;TYPE=${words.join(',').toUpperCase()}`;
}

const utf8Length = (text: string): number => Buffer.byteLength(text, 'utf8');

/**
 * RFC 2425 5.8.1: lines longer than 75 octets are folded with CRLF and one space. Folds fall
 * between code points, never inside a UTF-8 sequence.
 */
export function foldLine(line: string): string {
  const parts: string[] = [];
  let current = '';
  for (const codePoint of line) {
    const limit = parts.length === 0 ? 75 : 74;
    if (utf8Length(current) + utf8Length(codePoint) > limit) {
      parts.push(current);
      current = '';
    }
    current += codePoint;
  }
  parts.push(current);
  return parts.join('\r\n ');
}

function nameLine(contact: SharedContact): string {
  const family = escapeText(contact.lastName ?? '');
  const given = escapeText(contact.firstName ?? '');
  return `N:${family};${given};;;`;
}

function orgLines(org: SharedContact['org']): string[] {
  if (org === undefined) return [];
  const lines: string[] = [];
  if (org.company !== undefined || org.department !== undefined) {
    const units = [org.company ?? '', ...(org.department === undefined ? [] : [org.department])];
    lines.push(`ORG:${units.map(escapeText).join(';')}`);
  }
  if (org.title !== undefined) lines.push(`TITLE:${escapeText(org.title)}`);
  return lines;
}

function addressLine(address: SharedContact['addresses'][number]): string {
  const parts = ['', '', address.street, address.city, address.state, address.zip, address.country];
  return `ADR${typeParam(address.type)}:${parts.map((p) => escapeText(p ?? '')).join(';')}`;
}

function birthdayLines(birthday: string | undefined): string[] {
  // RFC 2426 3.1.5 wants an ISO 8601 date; anything else is dropped rather than mis-stated.
  return birthday !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(birthday) ? [`BDAY:${birthday}`] : [];
}

/** The contact as one vCard 3.0, CRLF line endings, ending with a line break. */
export function toVCard(contact: SharedContact): string {
  const formatted = contact.formattedName.trim() === '' ? 'Contact' : contact.formattedName;
  const lines = [
    'BEGIN:VCARD',
    'VERSION:3.0',
    nameLine(contact),
    `FN:${escapeText(formatted)}`,
    ...orgLines(contact.org),
    ...contact.phones.map((p) => `TEL${typeParam(p.type)}:${escapeText(p.phone)}`),
    ...contact.emails.map((e) => `EMAIL${typeParam(e.type, ['INTERNET'])}:${escapeText(e.email)}`),
    ...contact.urls.map((u) => `URL:${cleanUri(u.url)}`),
    ...contact.addresses.map(addressLine),
    ...birthdayLines(contact.birthday),
    'END:VCARD',
  ];
  return `${lines.map(foldLine).join('\r\n')}\r\n`;
}
