import { toHeaderText } from './header-text.js';

/**
 * File names and media types for attachments. Both come from WhatsApp (a client names the
 * document) and end up in MIME headers and, once a solicitor saves the file, on a Windows disk.
 */

const maxFileNameLength = 120;
// Separators and the characters Windows refuses in a file name.
const forbiddenCharacters = /[/\\:*?"<>|]/g;
// Device names Windows treats specially whatever the extension ("CON.txt" opens the console).
const windowsDeviceName = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/i;
const extensionPattern = /\.([A-Za-z0-9]{1,16})$/;

function cleanName(name: string): string {
  return toHeaderText(name)
    .replace(forbiddenCharacters, '_')
    .replace(/^[.\s]+/, '')
    .replace(/[.\s]+$/, '');
}

function cutToLength(text: string, max: number): string {
  let out = '';
  for (const codePoint of text) {
    if (out.length + codePoint.length > max) break;
    out += codePoint;
  }
  return out.replace(/[.\s]+$/, '');
}

/**
 * A file name safe to put in Content-Disposition and to save: no path separators, no control or
 * bidi characters, no leading dot (hidden files), at most 120 characters with the extension kept,
 * never empty (`fallback`, then "attachment", stands in).
 */
export function safeFileName(name: string, fallback = 'attachment'): string {
  const cleaned = cleanName(name);
  if (cleaned === '') return fallback === 'attachment' ? fallback : safeFileName(fallback);
  const extension = extensionPattern.exec(cleaned)?.[0] ?? '';
  const stem = cleaned.slice(0, cleaned.length - extension.length);
  let shortStem = cutToLength(stem, maxFileNameLength - extension.length);
  if (shortStem === '') shortStem = 'file';
  if (windowsDeviceName.test(shortStem)) shortStem = `_${shortStem}`;
  return `${shortStem}${extension}`;
}

/** True when the name already ends in an extension ("report.pdf"). */
export const hasExtension = (name: string): boolean => extensionPattern.test(name);

const tokenPattern = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

/**
 * The bare `type/subtype` (RFC 6838 4.2 restricted names) of a media type, lower-cased and
 * without parameters; anything that is not one becomes application/octet-stream.
 */
export function safeMimeType(mimeType: string): string {
  const bare = (mimeType.split(';')[0] ?? '').trim().toLowerCase();
  return tokenPattern.test(bare) ? bare : 'application/octet-stream';
}

// The types WhatsApp documents for media (Cloud API "Supported media types") plus common office files.
const extensions: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'image/heic': 'heic',
  'video/mp4': 'mp4',
  'video/3gpp': '3gp',
  'video/quicktime': 'mov',
  'audio/ogg': 'ogg',
  'audio/opus': 'opus',
  'audio/mpeg': 'mp3',
  'audio/mp4': 'm4a',
  'audio/aac': 'aac',
  'audio/amr': 'amr',
  'application/pdf': 'pdf',
  'text/plain': 'txt',
  'text/csv': 'csv',
  'text/vcard': 'vcf',
  'application/zip': 'zip',
  'application/msword': 'doc',
  'application/vnd.ms-excel': 'xls',
  'application/vnd.ms-powerpoint': 'ppt',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'pptx',
};

/** The usual file extension for a media type, "bin" when unknown. */
export function extensionForMimeType(mimeType: string): string {
  return extensions[safeMimeType(mimeType)] ?? 'bin';
}
