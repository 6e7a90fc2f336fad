import { stripLeadingMarks, stripMarks } from './marks.js';

// iOS: "<attached: 00000012-PHOTO-2024-01-31-13-45-02.jpg>" and its translations
// ("<anexado: …>", "<angehängt: …>", "<pièce jointe : …>").
const bracketed = /^<([^<>:]{1,40}):\s?([^<>]{1,255})>\s*$/u;
// Older iOS: "2015-08-04-PHOTO-00004762.jpg <‎attached>".
const trailingTag = /^(\S[^<>]{0,254}\.[\p{L}\p{N}]{1,8}) <[^<>\s]{0,3}[\p{L}\s]{1,30}>\s*$/u;
// Android: "IMG-20240131-WA0001.jpg (file attached)" and translations.
const parenthesised = /^(\S.{0,254}?\.[\p{L}\p{N}]{1,8}) \(([^()]{2,40})\)\s*$/u;
const androidTags = new Set([
  'file attached',
  'datei angehängt',
  'archivo adjunto',
  'fichier joint',
  'arquivo anexado',
  'file allegato',
  'bestand bijgevoegd',
  'bifogad fil',
  'vedhæftet fil',
  'vedlagt fil',
  'liitetty tiedosto',
  'załączony plik',
  'dosya ekli',
  'файл прикреплен',
  'прикреплённый файл',
  'arxiu adjunt',
  'fitxer adjunt',
]);
// WhatsApp's own media names: a tag we do not know still marks an attachment when the name is one.
const waMediaName = /^(IMG|VID|AUD|PTT|STK|DOC|PHOTO)-\d{8}-WA\d{4,}\.\w{2,5}$/;

/** The attachment's file name an attachment line names (its first line), if any. */
export function attachmentFileName(firstLine: string): string | undefined {
  const line = stripLeadingMarks(firstLine);
  if (line.length > 320 || line.length < 5) return undefined;
  const c = line.charCodeAt(0);
  const end = line.trimEnd();
  const last = end.charCodeAt(end.length - 1);
  // Every form ends in ">" or ")": most texts are ruled out by their last character.
  if (last !== 0x3e && last !== 0x29) return undefined;
  if (c === 0x3c) {
    const m = bracketed.exec(line);
    return m ? clean(m[2]!) : undefined;
  }
  let m = parenthesised.exec(line);
  if (m) {
    const name = clean(m[1]!);
    if (androidTags.has(stripMarks(m[2]!).trim().toLowerCase()) || (name !== undefined && waMediaName.test(name))) return name;
  }
  m = trailingTag.exec(line);
  if (m && /(attached|angehängt|adjunto|joint|anexado|allegato)/i.test(line.slice(m[1]!.length))) return clean(m[1]!);
  return undefined;
}

function clean(name: string): string | undefined {
  const out = stripMarks(name).trim();
  return out.length > 0 ? out : undefined;
}
