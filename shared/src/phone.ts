import { parsePhoneNumberFromString } from 'libphonenumber-js';

/**
 * Phone numbers as people read them and as machines match them. WhatsApp gives a client's
 * number as a wa_id: the international number as bare digits ("447700900123").
 */

/** `+<digits>` for a wa_id or a display number, or null when it holds no digits. */
export function toE164(value: string): string | null {
  const digits = value.replace(/\D/g, '');
  return digits === '' ? null : `+${digits}`;
}

/**
 * The number in international format ("+44 7700 900123"). Numbers libphonenumber cannot place
 * (unknown country code) fall back to `+<digits>`. The result can change with the library's
 * metadata, which is why a conversation's subject is computed once and stored.
 */
export function formatPhone(value: string): string | null {
  const e164 = toE164(value);
  if (e164 === null) return null;
  let formatted = formatted164.get(e164);
  if (formatted === undefined) {
    const parsed = parsePhoneNumberFromString(e164);
    formatted = parsed === undefined ? e164 : parsed.formatInternational();
    // Every mail of a chat formats the same few numbers; parsing costs more than the rest of a mail header.
    if (formatted164.size >= 10_000) formatted164.clear();
    formatted164.set(e164, formatted);
  }
  return formatted;
}

const formatted164 = new Map<string, string>();
