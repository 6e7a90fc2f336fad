/**
 * Characters WhatsApp puts into export headers that carry no meaning for parsing: bidi marks
 * (LRM U+200E, RLM U+200F, ALM U+061C, embeddings and isolates) and the byte-order mark. iOS puts
 * LRM before system texts and attachment markers; Arabic locales put RLM between date parts.
 */
export const INVISIBLE = '[\\u200e\\u200f\\u061c\\u202a-\\u202e\\u2066-\\u2069\\ufeff]';
const leadingInvisible = new RegExp(`^${INVISIBLE}+`);
const anyInvisible = new RegExp(`${INVISIBLE}+`, 'g');

/** Digits as some locales write them: ASCII, Arabic-Indic (U+0660) and Extended Arabic-Indic (U+06F0). */
export const DIGIT = '[0-9\\u0660-\\u0669\\u06f0-\\u06f9]';

const hasInvisible = new RegExp(INVISIBLE);

/** True for the code of an invisible mark (the INVISIBLE class). */
export function isInvisible(c: number): boolean {
  return c === 0x200e || c === 0x200f || c === 0x61c || c === 0xfeff || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

// Both run once per message: the common text without marks costs one comparison or one scan.
export function stripLeadingMarks(text: string): string {
  return text.length > 0 && isInvisible(text.charCodeAt(0)) ? text.replace(leadingInvisible, '') : text;
}

export function stripMarks(text: string): string {
  return hasInvisible.test(text) ? text.replace(anyInvisible, '') : text;
}

/** Arabic-Indic digits to ASCII, so "١٣" reads as 13. */
export function toAsciiDigits(text: string): string {
  if (text.charCodeAt(0) < 128 && text.charCodeAt(text.length - 1) < 128) return text;
  let out = '';
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    if (code >= 0x660 && code <= 0x669) out += String.fromCharCode(code - 0x660 + 48);
    else if (code >= 0x6f0 && code <= 0x6f9) out += String.fromCharCode(code - 0x6f0 + 48);
    else out += ch;
  }
  return out;
}
