import type { ChatMessage } from '@wa-bridge/shared/chat-export';
import type { Content, MediaType } from '../core/events.js';

const byExtension: Record<string, [MediaType, string]> = {
  jpg: ['image', 'image/jpeg'],
  jpeg: ['image', 'image/jpeg'],
  png: ['image', 'image/png'],
  heic: ['image', 'image/heic'],
  gif: ['image', 'image/gif'],
  webp: ['image', 'image/webp'],
  mp4: ['video', 'video/mp4'],
  mov: ['video', 'video/quicktime'],
  '3gp': ['video', 'video/3gpp'],
  opus: ['audio', 'audio/ogg'],
  ogg: ['audio', 'audio/ogg'],
  m4a: ['audio', 'audio/mp4'],
  mp3: ['audio', 'audio/mpeg'],
  aac: ['audio', 'audio/aac'],
  amr: ['audio', 'audio/amr'],
  pdf: ['document', 'application/pdf'],
  doc: ['document', 'application/msword'],
  docx: ['document', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
  xls: ['document', 'application/vnd.ms-excel'],
  xlsx: ['document', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
  txt: ['document', 'text/plain'],
  vcf: ['document', 'text/vcard'],
  zip: ['document', 'application/zip'],
};

/** The media type and MIME type an export's file name implies (stickers by WhatsApp's naming). */
export function mediaKindOf(fileName: string): { type: MediaType; mimeType: string } {
  const extension = fileName.slice(fileName.lastIndexOf('.') + 1).toLowerCase();
  const known = byExtension[extension];
  if (extension === 'webp' && /(^STK-|-STICKER-)/.test(fileName)) return { type: 'sticker', mimeType: 'image/webp' };
  return known ? { type: known[0], mimeType: known[1] } : { type: 'document', mimeType: 'application/octet-stream' };
}

/**
 * The archived content of one exported message. A system line stays a system message; an
 * attachment whose file came with the export becomes media (the lines after the first are its
 * caption, as Android writes them); everything else, including an attachment whose file is not
 * in the export, is the text as written. Every object has its keys in sorted order, as the
 * import's chain link relies on (flows/import.ts).
 */
export function toImportedContent(message: ChatMessage, stored: { sha256: string; size: number } | undefined): Content {
  if (message.author === null) return { body: message.message, systemType: 'chat-export', type: 'system' };
  const fileName = message.attachment?.fileName;
  if (fileName === undefined || stored === undefined) return { body: message.message, type: 'text' };
  const newline = message.message.indexOf('\n');
  const caption = newline === -1 ? '' : message.message.slice(newline + 1).trim();
  const { type, mimeType } = mediaKindOf(fileName);
  return {
    media: {
      ...(caption !== '' ? { caption } : {}),
      fileName,
      mimeType,
      sha256: stored.sha256,
      storedSha256: stored.sha256,
      storedSize: stored.size,
      waMediaId: `export:${fileName}`,
    },
    type,
  };
}
