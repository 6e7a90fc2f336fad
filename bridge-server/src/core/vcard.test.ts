import { describe, expect, it } from 'vitest';
import type { SharedContact } from './events.js';
import { escapeText, toVCard } from './vcard.js';

/** A small reader for what toVCard writes: unfold (RFC 2425 5.8.1), split name and value, unescape. */
function readVCard(card: string): Array<{ name: string; params: string; value: string }> {
  return card
    .replace(/\r\n[ \t]/g, '')
    .split('\r\n')
    .filter((line) => line !== '')
    .map((line) => {
      const colon = line.indexOf(':');
      const [name = '', ...params] = line.slice(0, colon).split(';');
      return { name, params: params.join(';'), value: line.slice(colon + 1) };
    });
}

const unescapeText = (value: string): string => value.replace(/\\([\\,;nN])/g, (_, c: string) => (c === 'n' || c === 'N' ? '\n' : c));

/** Splits a structured value on unescaped semicolons. */
const components = (value: string): string[] => value.split(/(?<!\\);/).map(unescapeText);

const contact: SharedContact = {
  formattedName: 'Smith, Jane; Esq.',
  firstName: 'Jane',
  lastName: 'Smith',
  phones: [{ phone: '+44 7700 900123', waId: '447700900123', type: 'CELL' }],
  emails: [{ email: 'jane@example.com', type: 'WORK' }],
  urls: [{ url: 'https://example.com/jane?a=1,2' }],
  org: { company: 'Smith & Co, Ltd', department: 'Litigation', title: 'Partner' },
  addresses: [{ street: '1 High St\nFlat 2', city: 'London', zip: 'N1 1AA', country: 'United Kingdom', type: 'HOME' }],
  birthday: '1980-02-29',
};

describe('toVCard', () => {
  it('writes a vCard 3.0 with CRLF line ends that reads back to the same values', () => {
    const card = toVCard(contact);
    expect(card.startsWith('BEGIN:VCARD\r\nVERSION:3.0\r\n')).toBe(true);
    expect(card.endsWith('END:VCARD\r\n')).toBe(true);
    expect(card.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    const props = readVCard(card);
    const get = (name: string) => props.find((p) => p.name === name);
    expect(unescapeText(get('FN')?.value ?? '')).toBe('Smith, Jane; Esq.');
    expect(components(get('N')?.value ?? '')).toEqual(['Smith', 'Jane', '', '', '']);
    expect(components(get('ORG')?.value ?? '')).toEqual(['Smith & Co, Ltd', 'Litigation']);
    expect(get('TEL')).toEqual({ name: 'TEL', params: 'TYPE=CELL', value: '+44 7700 900123' });
    expect(get('EMAIL')).toEqual({ name: 'EMAIL', params: 'TYPE=INTERNET,WORK', value: 'jane@example.com' });
    expect(get('URL')?.value).toBe('https://example.com/jane?a=1,2');
    expect(components(get('ADR')?.value ?? '')).toEqual(['', '', '1 High St\nFlat 2', 'London', '', 'N1 1AA', 'United Kingdom']);
    expect(get('BDAY')?.value).toBe('1980-02-29');
  });

  it('folds long lines at 75 octets without splitting a UTF-8 character', () => {
    const card = toVCard({ ...contact, formattedName: 'Zoë '.repeat(40).trim() });
    for (const line of card.split('\r\n')) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(75);
    expect(unescapeText(readVCard(card).find((p) => p.name === 'FN')?.value ?? '')).toBe('Zoë '.repeat(40).trim());
  });

  it('keeps a hostile name inside its own property', () => {
    const card = toVCard({ ...contact, formattedName: 'Eve\r\nEND:VCARD\r\nBEGIN:VCARD\r\nFN:Mallory' });
    const props = readVCard(card);
    expect(props.filter((p) => p.name === 'BEGIN')).toHaveLength(1);
    expect(props.filter((p) => p.name === 'FN')).toHaveLength(1);
  });

  it('drops a birthday that is not an ISO date and names an empty card', () => {
    const card = toVCard({ formattedName: ' ', phones: [], emails: [], urls: [], addresses: [], birthday: 'next Tuesday' });
    expect(card).toContain('FN:Contact\r\n');
    expect(card).not.toContain('BDAY');
  });
});

describe('escapeText', () => {
  it('escapes backslash, comma, semicolon and line breaks (RFC 2426 5)', () => {
    expect(escapeText('a\\b,c;d\r\ne')).toBe('a\\\\b\\,c\\;d\\ne');
  });
});
