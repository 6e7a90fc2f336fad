import { isClosingLine, isDisclaimerParagraph, isMobileFooterLine, MAX_MARKER_LINE } from './markers.js';

/**
 * Removes what follows the person's words at the bottom of a reply: mobile footers ("Sent from my
 * iPhone"), the `-- ` signature delimiter and everything under it, disclaimer paragraphs, and a
 * closing with its name block ("Kind regards,\nTom Baker\nPartner | Smith & Co LLP\n+44 …").
 *
 * The first paragraph is never taken for a disclaimer or a contact block, and the first line never
 * for a closing, so a reply that is only "Thanks!" stays "Thanks!".
 */
export function stripSignature(input: readonly string[]): string[] {
  let lines = stripTrailingNoise([...input]);
  const closing = closingIndex(lines);
  if (closing !== undefined) lines = stripTrailingNoise(lines.slice(0, closing));
  else lines = stripTrailingNoise(stripContactBlock(lines));
  return lines;
}

// Name blocks are short: name, role, firm, a few contact lines.
const MAX_NAME_BLOCK_LINES = 10;

/**
 * Trailing blanks, footers, the `-- ` block and disclaimers, until none is left. The delimiter and
 * disclaimer cuts each remove everything from their first occurrence, so the loop runs a few times
 * at most, whatever the input.
 */
function stripTrailingNoise(lines: string[]): string[] {
  for (;;) {
    popTrailingFooters(lines);
    if (lines.length === 0) return lines;
    // RFC 3676 4.3: "-- " on a line of its own opens the signature; clients that trim trailing
    // spaces leave "--".
    const delimiter = lines.findIndex((l) => /^--\s?$/u.test(l));
    if (delimiter >= 0) {
      lines = lines.slice(0, delimiter);
      continue;
    }
    const disclaimer = paragraphs(lines).find((p, index) => index > 0 && isDisclaimerParagraph(lines.slice(p.start, p.end).join('\n')));
    if (disclaimer !== undefined) {
      lines = lines.slice(0, disclaimer.start);
      continue;
    }
    return lines;
  }
}

/** Pops blank lines, mobile footers and a "-Tom" sign-off from the end, in place. */
function popTrailingFooters(lines: string[]): void {
  while (lines.length > 0) {
    const last = lines[lines.length - 1]!.trim();
    // A "-Tom" sign-off stands in its own paragraph; "- Passport" at the end of a list does not.
    const signOff = isDashedSignOff(last) && lines[lines.length - 2]?.trim() === '' && lines.some((l, i) => i < lines.length - 2 && l.trim() !== '');
    if (last !== '' && !isMobileFooterLine(last) && !signOff) return;
    lines.pop();
  }
}

/** A "-Tom" or Swedish-style "/Oliver" sign-off on the last line. */
function isDashedSignOff(line: string): boolean {
  return /^[-/–—] ?\p{Lu}[\p{L}'’.-]{0,30}(?: \p{Lu}[\p{L}'’.-]{0,30})?$/u.test(line);
}

/**
 * The last closing line ("Kind regards,") followed only by a short name block, if there is one and
 * it is not the first line the person wrote.
 */
function closingIndex(lines: readonly string[]): number | undefined {
  const first = lines.findIndex((l) => l.trim() !== '');
  let tailLines = 0;
  for (let i = lines.length - 1; i > first; i--) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    if (isClosingLine(line)) return i;
    if (++tailLines > MAX_NAME_BLOCK_LINES || !isNameBlockLine(line)) return undefined;
  }
  return undefined;
}

/** A line that can sit in a name block: short, and not a sentence of the message. */
function isNameBlockLine(line: string): boolean {
  if (line.length > 100) return false;
  if (isContactLine(line)) return true;
  // A full sentence ("Please call me on Monday to discuss.") belongs to the message.
  return !(/[.?!]$/u.test(line) && line.split(/\s+/u).length >= 6);
}

const contactPatterns: readonly RegExp[] = [
  /(?:^|\s)\+\d{1,3}[\s\d().-]{6,}/u,
  /\b0\d{2,4}[\s\d]{6,}/u,
  /^(?:T|Tel|Tél|Telefon|Tfn|Tlf|Tel\.|M|Mob|Mobile|DD|DDI|Direct|Direct line|Phone|Fax|F|E|Email|E-mail|W|Web)\s*[:.]\s/iu,
  /[^\s@]+@[^\s@]+\.\w+/u,
  /\b(?:https?:\/\/|www\.)\S+/iu,
  /\b(?:LLP|Ltd|Limited|Solicitors?|Partner|Associate|Paralegal|Trainee|Legal Executive|Counsel|Avocat|Rechtsanwalt|Rechtsanwältin|Abogad[oa]|Advocaat|Advokat|Avvocato|Advogad[oa])\b/u,
  /\s\|\s/u,
  /^\[cid:[^\]]*\]$/u,
];

/** A line of a contact block: phone, e-mail, web address, firm or role. */
export function isContactLine(line: string): boolean {
  return line.length <= 200 && contactPatterns.some((p) => p.test(line));
}

/** Drops a last paragraph that is mostly contact lines (a signature without a closing). */
function stripContactBlock(lines: string[]): string[] {
  const all = paragraphs(lines);
  const last = all[all.length - 1];
  if (last === undefined || all.length < 2) return lines;
  const block = lines.slice(last.start, last.end).map((l) => l.trim());
  const contact = block.filter(isContactLine).length;
  if (block.length > MAX_NAME_BLOCK_LINES || contact < 2 || contact * 2 < block.length) return lines;
  if (!block.every((l) => l.length <= MAX_MARKER_LINE && isNameBlockLine(l))) return lines;
  return lines.slice(0, last.start);
}

interface Paragraph {
  start: number;
  end: number;
}

/** Runs of non-blank lines, as [start, end) indexes. */
function paragraphs(lines: readonly string[]): Paragraph[] {
  const found: Paragraph[] = [];
  let start = -1;
  for (let i = 0; i <= lines.length; i++) {
    const blank = i === lines.length || lines[i]!.trim() === '';
    if (!blank && start < 0) start = i;
    if (blank && start >= 0) {
      found.push({ start, end: i });
      start = -1;
    }
  }
  return found;
}
