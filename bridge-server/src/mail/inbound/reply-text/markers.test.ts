import { describe, expect, it } from 'vitest';
import {
  endsLikeAttribution,
  headerRoleOf,
  isClosingLine,
  isDisclaimerParagraph,
  isForwardMarkerLine,
  isForwardSubject,
  isMobileFooterLine,
  isOriginalMessageLine,
  languages,
  markers,
  startsLikeAttribution,
  startsWithForwardMarker,
  type HeaderRole,
  type Language,
} from './markers.js';

/** One real-looking sample per language for every table; each must be recognised. */
const samples: Record<
  Language,
  { block: string[]; attribution: string; original: string; forward: string; footers: string[]; closing: string; disclaimer: string }
> = {
  en: {
    block: ['From: A <a@example.com>', 'Sent: Tuesday, June 3, 2025 2:02 PM', 'To: B', 'Cc: C', 'Subject: Lease'],
    attribution: 'On Tue, 3 Jun 2025 at 14:02, Priya Shah <p@example.com> wrote:',
    original: '-----Original Message-----',
    forward: '---------- Forwarded message ---------',
    footers: ['Sent from my iPhone', 'Get Outlook for iOS<https://aka.ms/o0ukef>', 'Sent from Outlook for Android', 'Sent from my Samsung Galaxy smartphone.'],
    closing: 'Kind regards,',
    disclaimer: 'This email and any attachments are confidential and may be legally privileged.',
  },
  fr: {
    block: ['De : A', 'Envoyé : mardi 3 juin 2025 14:02', 'À : B', 'Cc : C', 'Objet : Bail'],
    attribution: 'Le mar. 3 juin 2025 à 14:02, Jean-Luc Moreau <j@example.com> a écrit :',
    original: "-----Message d'origine-----",
    forward: 'Début du message réexpédié :',
    footers: ['Envoyé de mon iPhone', 'Envoyé depuis mon appareil Galaxy', 'Obtenez Outlook pour iOS'],
    closing: 'Bien cordialement,',
    disclaimer: 'Ce message et ses pièces jointes sont confidentiels et réservés à leurs destinataires.',
  },
  de: {
    block: ['Von: A', 'Gesendet: Dienstag, 3. Juni 2025 14:02', 'An: B', 'Cc: C', 'Betreff: Vollmacht'],
    attribution: 'Am Di., 3. Juni 2025 um 14:02 Uhr schrieb Anna Schneider <a@example.com>:',
    original: '-----Ursprüngliche Nachricht-----',
    forward: 'Anfang der weitergeleiteten Nachricht:',
    footers: ['Von meinem iPhone gesendet', 'Von meinem Samsung Galaxy Smartphone gesendet.', 'Outlook für iOS beziehen'],
    closing: 'Mit freundlichen Grüßen',
    disclaimer: 'Diese E-Mail ist vertraulich und kann rechtlich geschützte Informationen enthalten.',
  },
  es: {
    block: ['De: A', 'Enviado el: martes, 3 de junio de 2025 14:02', 'Para: B', 'CC: C', 'Asunto: Escritura'],
    attribution: 'El mar, 3 jun 2025 a las 14:02, Maria Lopez (<m@example.com>) escribió:',
    original: '-----Mensaje original-----',
    forward: '---------- Mensaje reenviado ---------',
    footers: ['Enviado desde mi iPhone', 'Enviado desde mi smartphone Samsung Galaxy.', 'Obtener Outlook para iOS'],
    closing: 'Un cordial saludo,',
    disclaimer: 'Este mensaje es confidencial y está dirigido únicamente a su destinatario.',
  },
  nl: {
    block: ['Van: A', 'Verzonden: dinsdag 3 juni 2025 14:02', 'Aan: B', 'CC: C', 'Onderwerp: Huur'],
    attribution: 'Op 3 jun. 2025 om 14:02 heeft Pieter de Vries <p@example.com> het volgende geschreven:',
    original: '-----Oorspronkelijk bericht-----',
    forward: 'Begin doorgestuurd bericht:',
    footers: ['Verzonden vanaf mijn iPhone', 'Verzonden met mijn Galaxy', 'Outlook voor iOS downloaden'],
    closing: 'Met vriendelijke groet,',
    disclaimer: 'Dit e-mailbericht is uitsluitend bestemd voor de geadresseerde en kan vertrouwelijke informatie bevatten.',
  },
  sv: {
    block: ['Från: A', 'Skickat: den 3 juni 2025 14:02', 'Till: B', 'Kopia: C', 'Ämne: Arvskifte'],
    attribution: 'Den tis 3 juni 2025 kl 14:02 skrev Karin Lindqvist <k@example.com>:',
    original: '-----Ursprungligt meddelande-----',
    forward: 'Början på vidarebefordrat brev:',
    footers: ['Skickat från min iPhone', 'Skickat från min Samsung Galaxy-smartphone.', 'Hämta Outlook för iOS'],
    closing: 'Med vänliga hälsningar',
    disclaimer: 'Detta meddelande är konfidentiellt och endast avsett för mottagaren.',
  },
  it: {
    block: ['Da: A', 'Inviato: martedì 3 giugno 2025 14:02', 'A: B', 'Cc: C', 'Oggetto: Udienza'],
    attribution: 'Il giorno mar 3 giu 2025 alle ore 14:02 Giulia Rossi <g@example.com> ha scritto:',
    original: '-----Messaggio originale-----',
    forward: 'Inizio messaggio inoltrato:',
    footers: ['Inviato da iPhone', 'Inviato dal mio smartphone Samsung Galaxy.', 'Scarica Outlook per iOS'],
    closing: 'Cordiali saluti',
    disclaimer: 'Questo messaggio e i suoi allegati sono riservati e destinati esclusivamente al destinatario.',
  },
  pt: {
    block: ['De: A', 'Enviada: terça-feira, 3 de junho de 2025 14:02', 'Para: B', 'Cc: C', 'Assunto: Registo'],
    attribution: 'Em ter., 3 de jun. de 2025 às 14:02, João Almeida <j@example.com> escreveu:',
    original: '-----Mensagem original-----',
    forward: 'Início da mensagem reencaminhada:',
    footers: ['Enviado do meu iPhone', 'Enviado do meu smartphone Galaxy', 'Obter o Outlook para iOS'],
    closing: 'Com os melhores cumprimentos,',
    disclaimer: 'Esta mensagem é confidencial e destina-se exclusivamente ao seu destinatário.',
  },
};

const roles: HeaderRole[] = ['from', 'sent', 'to', 'cc', 'subject'];

describe('marker tables', () => {
  it('fill every table for every language', () => {
    for (const language of languages) {
      const m = markers[language];
      for (const role of roles) expect(m.headerLabels[role].length, `${language} ${role}`).toBeGreaterThan(0);
      expect(m.attributionStarts.length + m.attributionVerbs.length, language).toBeGreaterThan(1);
      for (const list of [m.originalMessage, m.forwardedDashed, m.forwardedLines, m.mobileFooters, m.closings, m.disclaimers]) {
        expect(list.length, language).toBeGreaterThan(0);
      }
    }
  });

  describe.each(languages)('%s', (language) => {
    const s = samples[language];

    it('reads the Outlook header-block labels', () => {
      expect(s.block.map(headerRoleOf)).toEqual(roles);
    });

    it('recognises the attribution line', () => {
      expect(startsLikeAttribution(s.attribution)).toBe(true);
      expect(endsLikeAttribution(s.attribution)).toBe(true);
    });

    it('recognises the original-message and forward separators', () => {
      expect(isOriginalMessageLine(s.original)).toBe(true);
      expect(isForwardMarkerLine(s.forward)).toBe(true);
      expect(isForwardMarkerLine(s.original)).toBe(false);
      expect(startsWithForwardMarker(`${s.forward}\nFrom: someone`)).toBe(true);
    });

    it('recognises the mobile footers', () => {
      for (const footer of s.footers) expect(isMobileFooterLine(footer), footer).toBe(true);
    });

    it('recognises a closing and a disclaimer', () => {
      expect(isClosingLine(s.closing)).toBe(true);
      expect(isDisclaimerParagraph(s.disclaimer)).toBe(true);
    });
  });

  it('accepts the French no-break-space spelling and bold labels', () => {
    expect(headerRoleOf('Objet : Bail')).toBe('subject');
    expect(headerRoleOf('*From:* A <a@example.com>')).toBe('from');
  });

  it('does not take ordinary sentences for markers', () => {
    for (const line of ['From 1 July the rent goes up.', 'Subject to contract, the price is agreed.', 'To be confirmed', 'Dear Sir']) {
      expect(headerRoleOf(line), line).toBeUndefined();
    }
    expect(endsLikeAttribution('On Monday we wrote to the landlord.')).toBe(false);
    expect(startsLikeAttribution('Once signed, please return it.')).toBe(false);
    expect(isMobileFooterLine('Sent from the office at 5pm the contract was signed by all parties and dated')).toBe(false);
    expect(isMobileFooterLine('Please sign where marked.')).toBe(false);
    expect(isClosingLine('Thanks for sending the lease so quickly.')).toBe(false);
    expect(isClosingLine('Thanks for this')).toBe(false);
    expect(isClosingLine('Regards the deposit, it has arrived.')).toBe(false);
    expect(isDisclaimerParagraph('The settlement terms are confidential, so please do not share them.')).toBe(false);
    expect(isOriginalMessageLine('Original message below')).toBe(false);
    expect(isForwardMarkerLine('I forwarded the message to the bank.')).toBe(false);
  });

  it('accepts a closing followed by a name on the same line', () => {
    expect(isClosingLine('Thanks, Tom')).toBe(true);
    expect(isClosingLine('Best wishes, Eleanor Whitcombe')).toBe(true);
    expect(isClosingLine('Cheers!')).toBe(true);
  });

  it('tells forwards from replies by the subject prefix', () => {
    for (const subject of ['FW: Survey', 'Fwd: Survey', 'TR: Bail', 'WG: Vollmacht', 'RV: Escritura', 'I: Udienza', 'ENC: Registo', 'Doorst: Huur', 'VB: Arv']) {
      expect(isForwardSubject(subject), subject).toBe(true);
    }
    for (const subject of ['RE: FW: Survey', 'AW: Vollmacht', 'Re: Fwd: x', 'Invoice: June', undefined]) {
      expect(isForwardSubject(subject), String(subject)).toBe(false);
    }
  });

  // Built to make a backtracking pattern explode: a pattern that did would hold this test past
  // its timeout. How fast the tables answer is measured in the reply_text benchmark, not here.
  it('reads long hostile lines as no header, footer, closing, separator or disclaimer', () => {
    for (let i = 0; i < 200; i++) {
      const line = `On ${'On, '.repeat(240)}wrote${' :'.repeat(i)}`;
      // Whether such a line may open an attribution depends on its length; only that it answers matters.
      startsLikeAttribution(line);
      endsLikeAttribution(line);
      expect(headerRoleOf(line)).toBeUndefined();
      expect(isMobileFooterLine(line)).toBe(false);
      expect(isClosingLine(line)).toBe(false);
      expect(isOriginalMessageLine(line)).toBe(false);
      expect(isForwardMarkerLine(line)).toBe(false);
      expect(isDisclaimerParagraph(line.repeat(4))).toBe(false);
    }
  });
});
