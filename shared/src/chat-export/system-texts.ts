import { isInvisible, stripLeadingMarks } from './marks.js';

/**
 * Texts WhatsApp writes itself, by language (PROTOCOLS.md 5.3: classify by known phrases, not
 * only by a missing author). iOS writes them as if the chat or group name were the author, with
 * LRM before the text; Android writes them with no author, but a group subject may contain ": ".
 */
const encryptionNotices = [
  /^Messages and calls are end-to-end encrypted/,
  /^Messages (to this group|you send to this chat and calls) are now secured with end-to-end encryption/,
  /^Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt/,
  /^Los mensajes y las llamadas están cifrados de extremo a extremo/,
  /^Les messages et les appels sont chiffrés de bout en bout/,
  /^As mensagens e as chamadas são protegidas com a criptografia de ponta a ponta/,
  /^I messaggi e le chiamate sono crittografati end-to-end/,
  /^Berichten en oproepen worden end-to-end versleuteld/,
];

const groupChanges = [
  // English
  / created group /,
  /^(You|.{1,80}) (added|removed) .{1,400}$/,
  / left$/,
  / joined using this group's invite link$/,
  / changed (the subject|the group name|this group's icon|the group description|this group's settings|their phone number)/,
  / deleted this group's icon$/,
  /security code (with .{1,120} )?changed/,
  /^You('re| are) now an admin$/,
  / turned (on|off) disappearing messages/,
  /^This chat is with a business account/,
  // German
  / hat die Gruppe .{1,120} erstellt$/,
  / hat .{1,400} (hinzugefügt|entfernt)$/,
  / hat die Gruppe verlassen$/,
  / hat den (Betreff|Gruppennamen|Gruppenbeschreibung) .{0,400}geändert/,
  / ist über den Einladungslink dieser Gruppe beigetreten$/,
  /Sicherheitsnummer .{0,120}hat sich geändert/,
  // Spanish
  / creó el grupo /,
  / (añadió|eliminó) a .{1,400}$/,
  / salió del grupo$/,
  / cambió (el asunto|el nombre del grupo|la descripción del grupo|el ícono de este grupo)/,
  / se unió usando el enlace de invitación/,
  // French
  / a créé le groupe /,
  / a (ajouté|retiré) .{1,400}$/,
  / (est parti|a quitté le groupe)$/,
  / a (changé|modifié) (le sujet|le nom du groupe|la description du groupe|l'icône de ce groupe)/,
  / a rejoint ce groupe via le lien d'invitation/,
  // Portuguese
  / criou o grupo /,
  / (adicionou|removeu) .{1,400}$/,
  / saiu$/,
  / (mudou|alterou) (o assunto|o nome do grupo|a descrição do grupo|a imagem deste grupo)/,
  // Italian
  / ha creato il gruppo /,
  / ha (aggiunto|rimosso) .{1,400}$/,
  / è uscit[oa]$/,
  / ha cambiato (l'oggetto|il nome del gruppo|la descrizione del gruppo|l'immagine di questo gruppo)/,
  // Dutch
  / heeft groep .{1,120} aangemaakt$/,
  / heeft .{1,400} (toegevoegd|verwijderd)$/,
  / heeft de groep verlaten$/,
  / heeft (het onderwerp|de groepsnaam|de groepsbeschrijving) .{0,400}gewijzigd/,
];

// Group changes that may contain ": " (a subject or description), which Android writes with no
// author: these must win over the "Author: text" split.
const changesWithFreeText = [
  /^[^:]{1,80} changed (the subject|the group name|the group description) (from|to) /,
  /^[^:]{1,80} created group ["“]/,
  /^[^:]{1,80} hat (den Betreff|den Gruppennamen|die Gruppenbeschreibung) /,
  /^[^:]{1,80} hat die Gruppe [„"]/,
  /^[^:]{1,80} cambió (el asunto|el nombre del grupo|la descripción del grupo) /,
  /^[^:]{1,80} creó el grupo ["“]/,
  /^[^:]{1,80} a (changé|modifié) (le sujet|le nom du groupe|la description du groupe) /,
  /^[^:]{1,80} a créé le groupe [«"]/,
  /^[^:]{1,80} (mudou|alterou) (o assunto|o nome do grupo|a descrição do grupo) /,
  /^[^:]{1,80} ha cambiato (l'oggetto|il nome del gruppo|la descrizione del gruppo) /,
  /^[^:]{1,80} heeft (het onderwerp|de groepsnaam|de groepsbeschrijving) /,
];

// Each notice starts with one of these letters; most texts are ruled out by their first one.
const noticeStarts = new Set(['M', 'N', 'L', 'A', 'I', 'B']);

export function isEncryptionNotice(text: string): boolean {
  const t = stripLeadingMarks(text);
  return noticeStarts.has(t.charAt(0)) && encryptionNotices.some((re) => re.test(t));
}

/** True for a text WhatsApp wrote about the chat itself (notice, member or subject change). */
export function isSystemText(text: string): boolean {
  const t = stripLeadingMarks(text);
  return encryptionNotices.some((re) => re.test(t)) || groupChanges.some((re) => re.test(t));
}

/** True for an Android system line whose free text (a new subject) contains ": ". */
export function isSystemLineWithColon(rest: string, colon: number): boolean {
  const t = stripLeadingMarks(rest);
  // Every change with free text quotes it, so a quote before the first ": " comes first; this
  // keeps the patterns off the ordinary "Author: text" line.
  return (quoteBefore(rest, colon) && changesWithFreeText.some((re) => re.test(t))) || isEncryptionNotice(t);
}

/**
 * False when the header text at `from` in `text`, whose first ": " is at `colon`, is surely no
 * system line (isSystemLineWithColon would say false): no quote before the colon and a first
 * letter no notice starts with. Checked in place, before any string is made of the line.
 */
export function mayBeSystemLineWithColon(text: string, from: number, colon: number): boolean {
  const first = text.charCodeAt(from);
  return isInvisible(first) || noticeStarts.has(text.charAt(from)) || quoteBefore(text, colon, from);
}

function quoteBefore(text: string, end: number, from = 0): boolean {
  for (let i = from; i < end; i += 1) {
    const c = text.charCodeAt(i);
    if (c === 0x22 || c === 0x201c || c === 0x201e || c === 0xab) return true;
  }
  return false;
}
