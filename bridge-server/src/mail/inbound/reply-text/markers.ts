/**
 * Every localized pattern the reply-text stripper knows, in one place: Outlook header-block
 * labels, "On … wrote:" attributions, "Original Message" and forward separators, mobile footers,
 * closings and disclaimer phrases, for the eight languages the firm's clients write in.
 * Sources: the quote markers and the labels the clients print (Outlook desktop/web/Mac, Gmail, Apple Mail, Thunderbird, Samsung Email).
 *
 * All matchers work on one line (or a few joined lines) that the caller has already trimmed and
 * whose no-break spaces are plain spaces. None of the expressions backtracks over more than a
 * bounded window, and callers never pass lines longer than MAX_MARKER_LINE.
 */

export type Language = 'en' | 'fr' | 'de' | 'es' | 'nl' | 'sv' | 'it' | 'pt';
export const languages: readonly Language[] = ['en', 'fr', 'de', 'es', 'nl', 'sv', 'it', 'pt'];

/** The roles of the lines in an Outlook-style header block ("From:", "Sent:", …). */
export type HeaderRole = 'from' | 'sent' | 'to' | 'cc' | 'subject';

export interface LanguageMarkers {
  /** Header-block labels by role, as Outlook, Apple Mail and Samsung Email print them. */
  headerLabels: Record<HeaderRole, readonly string[]>;
  /** Words an attribution line starts with ("On", "Le", "Am", "Il giorno"). */
  attributionStarts: readonly string[];
  /** Verbs that end an attribution, immediately before its colon ("wrote", "a écrit"). */
  attributionVerbs: readonly string[];
  /** Verbs followed by the sender's name and then the colon ("schrieb Klaus <…>:"). */
  attributionVerbsBeforeName: readonly string[];
  /** The words between the dashes of "-----Original Message-----". */
  originalMessage: readonly string[];
  /** The words between the dashes of "---------- Forwarded message ---------". */
  forwardedDashed: readonly string[];
  /** Whole-line forward headers ("Begin forwarded message:"). */
  forwardedLines: readonly string[];
  /** Mobile and app footers ("Sent from my iPhone", "Get Outlook for iOS"), as whole lines. */
  mobileFooters: readonly RegExp[];
  /** Closing phrases that start a signature block ("Kind regards"). */
  closings: readonly string[];
  /** Phrases that mark a confidentiality or regulatory disclaimer paragraph. */
  disclaimers: readonly RegExp[];
}

/** Longest line any matcher looks at; longer lines are never markers. */
export const MAX_MARKER_LINE = 1000;

// A device or app named in a footer; bounded so a long line cannot make the pattern slow.
const device = String.raw`(?:(?:Apple |Samsung |Google )?(?:iPhone|iPad|iPod|Galaxy|Samsung|Android|BlackBerry|Pixel|Huawei|Xiaomi|OnePlus|Motorola|Nokia|Sony|mobile|phone|smartphone|tablet)[\w .,'()-]{0,50})`;
const outlookApp = String.raw`(?:(?:the )?Outlook|Mail|Yahoo Mail|AOL|Gmail)[\w .-]{0,12} (?:for|pour|für|para|voor|för|per|on|app) ?(?:iOS|Android|Windows(?: 1[01])?|iPhone|iPad)`;
const footer = (body: string) => new RegExp(`^(?:${body})\\.?$`, 'iu');

export const markers: Record<Language, LanguageMarkers> = {
  en: {
    headerLabels: {
      from: ['From'],
      sent: ['Sent', 'Date'],
      to: ['To'],
      cc: ['Cc', 'Bcc'],
      subject: ['Subject'],
    },
    attributionStarts: ['On'],
    attributionVerbs: ['wrote'],
    attributionVerbsBeforeName: [],
    originalMessage: ['Original Message', 'Original message', 'Reply Message'],
    forwardedDashed: ['Forwarded message', 'Forwarded Message'],
    forwardedLines: ['Begin forwarded message'],
    mobileFooters: [
      footer(`Sent (?:from|with|via|using) (?:my |the |a )?${device}`),
      footer(`(?:Sent (?:from|with|via) |Get |Download )${outlookApp}`),
      footer(`Sent from Mail for Windows(?: 1[01])?`),
      footer(`Sent from (?:my )?(?:Samsung Mobile|Samsung Galaxy smartphone|Galaxy|ProtonMail mobile|Proton Mail mobile)`),
    ],
    closings: [
      'Kind regards', 'With kind regards', 'Best regards', 'Warm regards', 'Warmest regards', 'Regards', 'Many thanks',
      'Thanks', 'Thank you', 'Thanks again', 'Best wishes', 'With best wishes', 'All the best', 'Best', 'Cheers',
      'Yours sincerely', 'Yours faithfully', 'Yours truly', 'Sincerely', 'Speak soon', 'Take care',
    ],
    disclaimers: [
      /\b(?:this|the information in this|the contents of this) (?:e-?mail|message|communication|transmission)\b[^.]{0,160}\b(?:confidential|privileged)/iu,
      /\bmay (?:also )?(?:be|contain) (?:legally |professionally )?privileged\b/iu,
      /\bif you (?:are not|have received this)[^.]{0,60}\b(?:intended recipient|in error)\b/iu,
      /\bintended (?:solely |only )?for (?:the (?:use of the )?)?(?:addressee|intended recipient|named recipient|person or entity)/iu,
      /\bauthorised and regulated by the Solicitors Regulation Authority\b/iu,
      /\bSRA (?:number|no\.?|ID)\b/iu,
      /\bregistered in England (?:and|&) Wales\b/iu,
      /\bplease consider the environment before printing\b/iu,
      /\b(?:cyber ?crime|fraud|payment fraud|bank details) (?:warning|alert|notice)\b/iu,
      /\bwe will never (?:change|contact you to change|notify you of (?:a )?change to) our bank (?:account )?details\b/iu,
      /^(?:confidentiality notice|disclaimer|important notice)\s*:/iu,
    ],
  },
  fr: {
    headerLabels: {
      from: ['De'],
      sent: ['Envoyé', 'Envoyé le', 'Date'],
      to: ['À', 'A'],
      cc: ['Cc', 'Cci', 'Copie à'],
      subject: ['Objet', 'Sujet'],
    },
    attributionStarts: ['Le'],
    attributionVerbs: ['a écrit'],
    attributionVerbsBeforeName: [],
    originalMessage: ["Message d'origine", 'Message d’origine', 'Message original'],
    forwardedDashed: ['Message transféré', 'Message réexpédié'],
    forwardedLines: ['Début du message réexpédié', 'Début du message transféré'],
    mobileFooters: [
      footer(`Envoyé (?:de|depuis|à partir de) (?:mon |ma |un )?(?:appareil |téléphone |tablette )?${device}`),
      footer(`(?:Envoyé (?:de|depuis|à partir de) |Obtenez |Obtenir |Télécharger |Téléchargez )${outlookApp}`),
    ],
    closings: [
      'Cordialement', 'Bien cordialement', 'Très cordialement', 'Bien à vous', 'Bien à toi', 'Salutations distinguées',
      'Meilleures salutations', 'Sincères salutations', 'Merci', 'Merci beaucoup', 'Amicalement', 'Bonne journée',
    ],
    disclaimers: [
      /\b(?:ce|le présent) (?:message|courriel|e-?mail|mail)\b[^.]{0,160}\bconfidenti/iu,
      /\bsi vous (?:n'êtes pas|n’êtes pas|avez reçu ce)[^.]{0,60}\b(?:destinataire|par erreur)\b/iu,
    ],
  },
  de: {
    headerLabels: {
      from: ['Von'],
      sent: ['Gesendet', 'Datum'],
      to: ['An'],
      cc: ['Cc', 'Kopie'],
      subject: ['Betreff'],
    },
    attributionStarts: ['Am'],
    attributionVerbs: ['schrieb'],
    attributionVerbsBeforeName: ['schrieb'],
    originalMessage: ['Ursprüngliche Nachricht', 'Originalnachricht', 'Original-Nachricht'],
    forwardedDashed: ['Weitergeleitete Nachricht'],
    forwardedLines: ['Anfang der weitergeleiteten Nachricht', 'Anfang der weitergeleiteten E-Mail'],
    mobileFooters: [
      footer(`Von meinem ${device} gesendet`),
      footer(`Gesendet (?:von|mit|vom) (?:meinem |einem )?${device}`),
      footer(`(?:Gesendet von |Von )${outlookApp}(?: gesendet)?`),
      footer(`(?:Holen Sie sich |Hol dir )?${outlookApp} beziehen`),
      footer(`(?:Holen Sie sich|Hol dir|Laden Sie) ${outlookApp}(?: herunter)?`),
    ],
    closings: [
      'Mit freundlichen Grüßen', 'Mit freundlichen Grüssen', 'Freundliche Grüße', 'Freundliche Grüsse', 'Viele Grüße',
      'Viele Grüsse', 'Beste Grüße', 'Beste Grüsse', 'Liebe Grüße', 'Herzliche Grüße', 'Schöne Grüße', 'Gruß', 'Grüße',
      'MfG', 'Vielen Dank', 'Danke',
    ],
    disclaimers: [
      /\bdiese (?:e-?mail|nachricht)\b[^.]{0,160}\bvertraulich/iu,
      /\bwenn sie nicht der (?:richtige|beabsichtigte) (?:adressat|empfänger)/iu,
    ],
  },
  es: {
    headerLabels: {
      from: ['De'],
      sent: ['Enviado el', 'Enviado', 'Fecha'],
      to: ['Para'],
      cc: ['CC', 'Cc', 'CCO'],
      subject: ['Asunto'],
    },
    attributionStarts: ['El'],
    attributionVerbs: ['escribió'],
    attributionVerbsBeforeName: [],
    originalMessage: ['Mensaje original'],
    forwardedDashed: ['Mensaje reenviado'],
    forwardedLines: ['Inicio del mensaje reenviado', 'Comienzo del mensaje reenviado'],
    mobileFooters: [
      footer(`Enviado (?:desde|con) (?:mi |un )?(?:dispositivo |teléfono |smartphone )?${device}`),
      footer(`(?:Enviado desde |Obtener |Descargar |Descarga )${outlookApp}`),
    ],
    closings: [
      'Saludos', 'Un saludo', 'Saludos cordiales', 'Un cordial saludo', 'Atentamente', 'Muchas gracias', 'Gracias',
      'Un abrazo', 'Reciba un cordial saludo',
    ],
    disclaimers: [
      /\beste (?:mensaje|correo|e-?mail)\b[^.]{0,160}\bconfidencial/iu,
      /\bsi (?:usted )?no es el destinatario/iu,
    ],
  },
  nl: {
    headerLabels: {
      from: ['Van'],
      sent: ['Verzonden', 'Verstuurd', 'Datum'],
      to: ['Aan'],
      cc: ['CC', 'Cc'],
      subject: ['Onderwerp'],
    },
    attributionStarts: ['Op'],
    attributionVerbs: ['schreef', 'het volgende geschreven', 'geschreven'],
    attributionVerbsBeforeName: ['schreef'],
    originalMessage: ['Oorspronkelijk bericht', 'Origineel bericht'],
    forwardedDashed: ['Doorgestuurd bericht'],
    forwardedLines: ['Begin doorgestuurd bericht', 'Doorgestuurd bericht'],
    mobileFooters: [
      footer(`(?:Verzonden|Verstuurd) (?:vanaf|van|met|via) (?:mijn |een )?${device}`),
      footer(`(?:(?:Verzonden|Verstuurd) (?:vanuit|vanaf|met) |Download |Haal )${outlookApp}(?: downloaden| op)?`),
      footer(`${outlookApp} downloaden`),
    ],
    closings: [
      'Met vriendelijke groet', 'Met vriendelijke groeten', 'Vriendelijke groet', 'Vriendelijke groeten', 'Groeten',
      'Groet', 'Hartelijke groet', 'Mvg', 'Bedankt', 'Dank je wel', 'Dank u wel',
    ],
    disclaimers: [
      /\bdit (?:e-?mail)?(?:bericht|e-?mail)\b[^.]{0,160}\bvertrouwelijk/iu,
      /\bindien u niet de (?:beoogde )?geadresseerde/iu,
    ],
  },
  sv: {
    headerLabels: {
      from: ['Från'],
      sent: ['Skickat', 'Skickades', 'Datum'],
      to: ['Till'],
      cc: ['Kopia', 'Cc'],
      subject: ['Ämne'],
    },
    attributionStarts: ['Den'],
    attributionVerbs: ['skrev'],
    attributionVerbsBeforeName: ['skrev'],
    originalMessage: ['Ursprungligt meddelande', 'Originalmeddelande', 'Ursprungligt e-postmeddelande'],
    forwardedDashed: ['Vidarebefordrat meddelande'],
    forwardedLines: ['Början på vidarebefordrat brev', 'Början på vidarebefordrat meddelande', 'Vidarebefordrat brev'],
    mobileFooters: [
      footer(`Skickat (?:från|med|via) (?:min |mitt |en )?${device}`),
      footer(`(?:Skickat från |Hämta |Skaffa )${outlookApp}`),
    ],
    closings: [
      'Med vänliga hälsningar', 'Vänliga hälsningar', 'Med vänlig hälsning', 'Vänlig hälsning', 'Hälsningar',
      'Bästa hälsningar', 'Mvh', 'Tack', 'Tack så mycket',
    ],
    disclaimers: [
      /\bdetta (?:e-?post)?(?:meddelande|e-?post)\b[^.]{0,160}\bkonfidentiell/iu,
      /\bom du inte är (?:den )?avsedda mottagare/iu,
    ],
  },
  it: {
    headerLabels: {
      from: ['Da'],
      sent: ['Inviato', 'Data'],
      to: ['A'],
      cc: ['Cc', 'Ccn'],
      subject: ['Oggetto'],
    },
    attributionStarts: ['Il giorno', 'Il'],
    attributionVerbs: ['ha scritto', 'scrisse'],
    attributionVerbsBeforeName: [],
    originalMessage: ['Messaggio originale'],
    forwardedDashed: ['Messaggio inoltrato'],
    forwardedLines: ['Inizio messaggio inoltrato', 'Messaggio inoltrato'],
    mobileFooters: [
      footer(`Inviato (?:da|dal|dal mio|con|tramite) (?:mio |un )?(?:dispositivo |smartphone )?${device}`),
      footer(`(?:Inviato da |Scarica |Ottieni )${outlookApp}`),
    ],
    closings: [
      'Cordiali saluti', 'Distinti saluti', 'Saluti', 'Un saluto', 'Un caro saluto', 'Grazie', 'Grazie mille',
      'Buona giornata',
    ],
    disclaimers: [
      /\b(?:questo|il presente) (?:messaggio|e-?mail|documento)\b[^.]{0,160}\b(?:riservat|confidenzial)/iu,
      /\bse (?:non siete|non sei|lei non è) (?:il )?destinatari/iu,
    ],
  },
  pt: {
    headerLabels: {
      from: ['De'],
      sent: ['Enviada', 'Enviado', 'Enviada em', 'Enviado em', 'Data'],
      to: ['Para'],
      cc: ['Cc', 'CC', 'Cópia'],
      subject: ['Assunto'],
    },
    attributionStarts: ['Em', 'No dia'],
    attributionVerbs: ['escreveu'],
    attributionVerbsBeforeName: [],
    originalMessage: ['Mensagem original', 'Mensagem Original'],
    forwardedDashed: ['Mensagem encaminhada', 'Mensagem reencaminhada'],
    forwardedLines: ['Início da mensagem reencaminhada', 'Início da mensagem encaminhada', 'Mensagem encaminhada'],
    mobileFooters: [
      footer(`Enviado (?:do|de|a partir do|pelo|com o) (?:meu |um )?(?:dispositivo |smartphone |telemóvel )?${device}`),
      footer(`(?:Enviado (?:do|pelo|a partir do) |Obter o |Obtenha o |Baixe o |Transfira o )${outlookApp}`),
    ],
    closings: [
      'Atenciosamente', 'Cumprimentos', 'Com os melhores cumprimentos', 'Melhores cumprimentos', 'Com os meus cumprimentos',
      'Abraço', 'Um abraço', 'Obrigado', 'Obrigada', 'Muito obrigado', 'Muito obrigada',
    ],
    disclaimers: [
      /\besta (?:mensagem|e-?mail)\b[^.]{0,160}\bconfidencia/iu,
      /\bse (?:você|v\.? ?exa\.?) não (?:é|for) o destinatário/iu,
    ],
  },
};

/** Reply prefixes that mean the message is a forward ("Fwd:", "TR:", "WG:", "RV:", "I:", …). */
const forwardSubject = /^\s*(?:\[[^\]]{0,40}\]\s*)?(?:fwd?|tr|wg|rv|doorst|vb|vs|i|enc|fs)\s*:/iu;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const all = <T>(pick: (m: LanguageMarkers) => readonly T[]): T[] => [...new Set(languages.flatMap((l) => pick(markers[l])))];
// Longest first, so "Enviado el" wins over "Enviado".
const alternation = (words: string[]) => words.sort((a, b) => b.length - a.length).map(escape).join('|');

const roleByLabel = new Map<string, HeaderRole>();
for (const language of languages) {
  for (const [role, labels] of Object.entries(markers[language].headerLabels) as Array<[HeaderRole, readonly string[]]>) {
    for (const label of labels) if (!roleByLabel.has(label.toLowerCase())) roleByLabel.set(label.toLowerCase(), role);
  }
}
// Outlook may bold the label in plain text ("*From:*"); French puts a space before the colon.
const headerLine = new RegExp(`^\\s{0,3}\\*{0,2}(${alternation([...roleByLabel.keys()])})\\*{0,2}\\s?:(?:\\*{1,2}|\\s|$)`, 'iu');
const originalMessage = new RegExp(`^[-–—_ ]{2,}\\s*(?:${alternation(all((m) => m.originalMessage))})\\s*[-–—_ ]{2,}$`, 'iu');
const androidAttribution = new RegExp(`^-{2,} .{1,120} (?:${alternation(all((m) => m.attributionVerbs))}) -{2,}$`, 'iu');
const forwardedDashed = new RegExp(`^[-–—_ ]{2,}\\s*(?:${alternation(all((m) => m.forwardedDashed))})\\s*[-–—_ ]{2,}$`, 'iu');
const forwardedLine = new RegExp(`^(?:${alternation(all((m) => m.forwardedLines))})\\s*:?$`, 'iu');
const forwardedLeading = new RegExp(`^\\s*(?:[-–—_ ]{2,}\\s*)?(?:${alternation([...all((m) => m.forwardedDashed), ...all((m) => m.forwardedLines)])})`, 'iu');
const attributionStart = new RegExp(`^(?:${alternation(all((m) => m.attributionStarts))})\\s`, 'u');
const attributionEnd = new RegExp(
  `(?:\\s(?:${alternation(all((m) => m.attributionVerbs))})\\s?:|\\s(?:${alternation(all((m) => m.attributionVerbsBeforeName))})\\s.{1,200}:)$`,
  'iu',
);
const closings = all((m) => m.closings)
  .map((c) => c.toLowerCase())
  .sort((a, b) => b.length - a.length);
// After the closing: nothing, punctuation, or a short capitalized name ("Thanks, Tom"). Matched
// case-sensitively, so "Thanks for this" is not a closing followed by a name.
const afterClosing = /^\s*[,.!]?\s*(?:\p{Lu}[\p{L}.'’-]{0,30}(?:\s\p{Lu}[\p{L}.'’-]{0,30}){0,2})?\s*[,.!]*$/u;
const mobileFooters = all((m) => m.mobileFooters);
const disclaimers = all((m) => m.disclaimers);
// A footer line often carries the app's link: "Get Outlook for iOS<https://aka.ms/o0ukef>".
const trailingLink = /\s*(?:<[^<>\s]{1,300}>|\([^()\s]{1,300}\)|\[[^[\]\s]{1,300}\])\s*$/u;

/** The header-block role of a line such as "From: …" or "Envoyé : …", if it is one. */
export function headerRoleOf(line: string): HeaderRole | undefined {
  if (line.length > MAX_MARKER_LINE) return undefined;
  const match = headerLine.exec(line);
  return match ? roleByLabel.get(match[1]!.toLowerCase()) : undefined;
}

/** "-----Original Message-----" and its translations, also Samsung's "-------- Original message --------". */
export function isOriginalMessageLine(line: string): boolean {
  return line.length <= 200 && (originalMessage.test(line) || androidAttribution.test(line));
}

/** A line that opens forwarded content ("---------- Forwarded message ---------", "Begin forwarded message:"). */
export function isForwardMarkerLine(line: string): boolean {
  return line.length <= 200 && (forwardedDashed.test(line) || forwardedLine.test(line));
}

/** Text (e.g. the start of an HTML quote container) that begins with a forward marker. */
export function startsWithForwardMarker(text: string): boolean {
  return forwardedLeading.test(text.slice(0, 300));
}

/** A subject whose reply prefix says the message is a forward. */
export function isForwardSubject(subject: string | undefined): boolean {
  return subject !== undefined && forwardSubject.test(subject);
}

/** The start of an attribution ("On Tue, 3 Jun 2025 …", "Il giorno …"). */
export function startsLikeAttribution(line: string): boolean {
  return line.length <= MAX_MARKER_LINE && (attributionStart.test(line) || /^\d/u.test(line));
}

/** The end of an attribution ("… wrote:", "… a écrit :", "… schrieb Klaus Bergmann <k@b.de>:"). */
export function endsLikeAttribution(text: string): boolean {
  return text.length <= 3 * MAX_MARKER_LINE && attributionEnd.test(text);
}

/** A mobile or app footer such as "Sent from my iPhone" or "Von meinem iPhone gesendet". */
export function isMobileFooterLine(line: string): boolean {
  if (line.length > 200) return false;
  const bare = line.replace(trailingLink, '').trim();
  return bare.length > 0 && mobileFooters.some((pattern) => pattern.test(bare));
}

/** A closing that starts a signature block ("Kind regards,", "Mit freundlichen Grüßen", "Thanks, Tom"). */
export function isClosingLine(line: string): boolean {
  if (line.length > 80) return false;
  const lower = line.toLowerCase();
  return closings.some((closing) => lower.startsWith(closing) && !/^\p{L}/u.test(line.slice(closing.length)) && afterClosing.test(line.slice(closing.length)));
}

/** A paragraph that reads as a confidentiality, regulatory or fraud-warning disclaimer. */
export function isDisclaimerParagraph(paragraph: string): boolean {
  const text = paragraph.slice(0, 4000).replace(/\s+/gu, ' ');
  return disclaimers.some((pattern) => pattern.test(text));
}
