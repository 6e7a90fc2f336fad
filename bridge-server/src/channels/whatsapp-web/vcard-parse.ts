import type { SharedContact } from '../../core/events.js';

/**
 * Reads the raw vCards whatsapp-web.js hands over in `message.vCards` (one string per shared
 * contact) into our SharedContact. Pure. WhatsApp writes vCard 3.0 (RFC 2426) with Apple-style
 * grouped properties (`item1.TEL;waid=447700900123:+44 7700 900123`), where the `waid` parameter
 * names the WhatsApp account of that number. Unknown properties are ignored; the raw text stays
 * in the event's raw record.
 */
export function parseVCards(cards: readonly string[]): SharedContact[] {
  return cards.flatMap((text) => splitCards(text)).map(parseCard).filter((card): card is SharedContact => card !== undefined);
}

interface Property {
  name: string;
  params: Map<string, string[]>;
  value: string;
}

function splitCards(text: string): string[] {
  // RFC 2425 5.8.1 unfolding: a line break followed by a space or tab continues the line.
  const unfolded = text.replace(/\r\n?/g, '\n').replace(/\n[ \t]/g, '');
  const cards: string[] = [];
  let current: string[] | undefined;
  for (const line of unfolded.split('\n')) {
    const upper = line.trim().toUpperCase();
    if (upper === 'BEGIN:VCARD') current = [];
    else if (upper === 'END:VCARD') {
      if (current) cards.push(current.join('\n'));
      current = undefined;
    } else current?.push(line);
  }
  return cards;
}

function parseProperty(line: string): Property | undefined {
  const colon = line.indexOf(':');
  if (colon <= 0) return undefined;
  const [rawName = '', ...rawParams] = line.slice(0, colon).split(';');
  // "item1.TEL": the group prefix only ties a property to its label.
  const name = rawName.slice(rawName.indexOf('.') + 1).toUpperCase();
  const params = new Map<string, string[]>();
  for (const param of rawParams) {
    const eq = param.indexOf('=');
    // vCard 2.1 writes bare types ("TEL;CELL:..."); they mean TYPE=CELL.
    const key = eq === -1 ? 'TYPE' : param.slice(0, eq).toUpperCase();
    const values = (eq === -1 ? param : param.slice(eq + 1)).split(',').map((v) => v.replace(/^"|"$/g, '').trim());
    params.set(key, [...(params.get(key) ?? []), ...values.filter((v) => v !== '')]);
  }
  return { name, params, value: line.slice(colon + 1) };
}

/** RFC 2426 5: \n, \, \; and \\ are escapes in text values. */
const unescape = (value: string): string => value.replace(/\\([nN,;\\])/g, (_, c: string) => (c === 'n' || c === 'N' ? '\n' : c));

/** Splits a structured value (N, ADR, ORG) on unescaped semicolons. */
function components(value: string): string[] {
  return value.split(/(?<!\\);/).map((part) => unescape(part).trim());
}

const cut = (value: string | undefined, max: number): string | undefined => {
  const trimmed = value?.trim();
  return trimmed ? trimmed.slice(0, max) : undefined;
};

const typeOf = (property: Property): string | undefined => {
  const types = (property.params.get('TYPE') ?? []).filter((t) => !['PREF', 'INTERNET', 'VOICE'].includes(t.toUpperCase()));
  return cut(types.join(','), 64);
};

function parseCard(text: string): SharedContact | undefined {
  const properties = text
    .split('\n')
    .map(parseProperty)
    .filter((p): p is Property => p !== undefined);
  const contact: SharedContact = { formattedName: '', phones: [], emails: [], urls: [], addresses: [] };
  for (const property of properties) {
    const value = property.value;
    switch (property.name) {
      case 'FN':
        contact.formattedName = cut(unescape(value), 1024) ?? '';
        break;
      case 'N': {
        const [last, first] = components(value);
        contact.lastName = cut(last, 1024);
        contact.firstName = cut(first, 1024);
        break;
      }
      case 'TEL': {
        const phone = cut(unescape(value), 64);
        const waId = property.params.get('WAID')?.[0];
        if (phone) contact.phones.push({ phone, waId: waId && /^\d{4,20}$/.test(waId) ? waId : undefined, type: typeOf(property) });
        break;
      }
      case 'EMAIL': {
        const email = cut(unescape(value), 512);
        if (email) contact.emails.push({ email, type: typeOf(property) });
        break;
      }
      case 'URL': {
        const url = cut(unescape(value), 2048);
        if (url) contact.urls.push({ url, type: typeOf(property) });
        break;
      }
      case 'ORG': {
        const [company, department] = components(value);
        contact.org = { ...contact.org, company: cut(company, 512), department: cut(department, 512) };
        break;
      }
      case 'TITLE':
        contact.org = { ...contact.org, title: cut(unescape(value), 512) };
        break;
      case 'ADR': {
        // ADR: post office box; extended address; street; locality; region; postal code; country.
        const [, , street, city, state, zip, country] = components(value);
        contact.addresses.push({ street: cut(street, 1024), city: cut(city, 512), state: cut(state, 512), zip: cut(zip, 64), country: cut(country, 512), type: typeOf(property) });
        break;
      }
      case 'BDAY':
        contact.birthday = cut(value, 32);
        break;
    }
  }
  if (!contact.formattedName) {
    contact.formattedName = [contact.firstName, contact.lastName].filter(Boolean).join(' ') || contact.phones[0]?.phone || '';
  }
  return contact.formattedName || contact.phones.length > 0 ? contact : undefined;
}
