import { extensionForMimeType, hasExtension, safeFileName, safeMimeType } from '../file-name.js';
import { base32, sha256 } from '../ids.js';
import type { MailAttachment } from '../mail.js';
import type { AttachmentRecord } from '../records.js';
import type { ContentOf, RenderedContent, StoredMedia } from './content.js';
import { cleanText, escapeHtml, note, oneLine, paragraph, textParagraph } from './html.js';

type MediaContent = ContentOf<'image' | 'video' | 'audio' | 'document' | 'sticker'>;

const labels: Record<MediaContent['type'], string> = {
  image: 'Photo',
  video: 'Video',
  audio: 'Audio',
  document: 'Document',
  sticker: 'Sticker',
};

function mediaLabel(content: MediaContent): string {
  if (content.type === 'audio' && content.media.voice === true) return 'Voice note';
  if (content.type === 'sticker' && content.media.animated === true) return 'Animated sticker';
  return labels[content.type];
}

/**
 * The attachment's file name: the name the sender gave (documents usually have one), made safe,
 * else `<type>-<short id>.<ext>` with the short id taken from the media id, so it is stable.
 */
export function mediaFileName(type: MediaContent['type'], record: AttachmentRecord, givenName: string | undefined, suffix = ''): string {
  const extension = extensionForMimeType(record.mimeType);
  const generated = `${type}-${base32(sha256(record.waMediaId)).slice(0, 8)}${suffix}.${extension}`;
  const given = record.fileName ?? givenName;
  if (given === undefined || given.trim() === '') return generated;
  const safe = safeFileName(given, generated);
  return hasExtension(safe) ? safe : safeFileName(`${safe}.${extension}`);
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function toAttachments(content: MediaContent, media: StoredMedia[]): MailAttachment[] {
  const ordered = [...media].sort((a, b) => a.record.ordinal - b.record.ordinal);
  return ordered.map(({ record, content: bytes }, index) => ({
    fileName: mediaFileName(content.type, record, content.media.fileName, ordered.length > 1 ? `-${index + 1}` : ''),
    contentType: safeMimeType(record.mimeType),
    content: bytes,
  }));
}

const describe = (a: MailAttachment): string => `${a.fileName} (${a.contentType}, ${formatSize(a.content.length)})`;

/** Image, video, audio (voice notes say so), document and sticker: caption plus the real file. */
export function renderMedia(content: MediaContent, media: StoredMedia[]): RenderedContent {
  const label = mediaLabel(content);
  const attachments = toAttachments(content, media);
  const caption = content.media.caption ?? '';
  const missing = 'The file is not in the archive yet, so it is not attached.';
  const fileLines = attachments.length === 0 ? [`[${label}] ${missing}`] : attachments.map((a) => `[${label}] attached: ${describe(a)}`);
  const fileHtml =
    attachments.length === 0
      ? paragraph(`<strong>${escapeHtml(label)}</strong>`) + note(missing)
      : attachments.map((a) => paragraph(`<strong>${escapeHtml(label)}</strong> attached: ${escapeHtml(describe(a))}`)).join('\n');
  const named = content.type === 'document' ? (attachments[0]?.fileName ?? content.media.fileName) : undefined;
  const head = named === undefined ? `[${label}]` : `[${label}: ${named}]`;
  return {
    summary: oneLine(caption === '' ? head : `${head} ${caption}`),
    text: [...fileLines, ...(caption === '' ? [] : ['', cleanText(caption)])].join('\n'),
    html: fileHtml + (caption === '' ? '' : `\n${textParagraph(caption)}`),
    attachments,
  };
}
