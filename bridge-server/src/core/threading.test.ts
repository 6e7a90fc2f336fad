import { describe, expect, it } from 'vitest';
import { base32, makeChatKey, makeChatToken, sha256 } from './ids.js';
import {
  chatGuid,
  encodeThreadIndex,
  eventMailId,
  makeSubject,
  references,
  rootMailId,
  threadIndex,
  threadIndexChild,
  threadIndexHeader,
} from './threading.js';

const domain = 'wa.firm.example';
const token = makeChatToken('acme', 'cloud-api', makeChatKey('106540352242922', '447700900123'));

describe('eventMailId', () => {
  it('hashes tenant, channel and WhatsApp id for a plain message, as a dot-atom id on the bridge domain', () => {
    const id = eventMailId('acme', 'cloud-api', 'wamid.HBgM', 'message', '', domain);
    const expected = base32(sha256('wa-bridge:v1:acme:cloud-api:wamid.HBgM')).slice(0, 26);
    expect(id).toBe(`m.${expected}@${domain}`);
    expect(id).toMatch(/^m\.[a-z2-7]{26}@wa\.firm\.example$/);
  });

  it('gives the same id on every call (a retry never makes a second mail)', () => {
    const a = eventMailId('acme', 'cloud-api', 'wamid.1', 'message', '', domain);
    expect(eventMailId('acme', 'cloud-api', 'wamid.1', 'message', '', domain)).toBe(a);
  });

  it('gives edits, deletions and reactions ids of their own, distinct per version', () => {
    const ids = [
      eventMailId('acme', 'cloud-api', 'wamid.1', 'message', '', domain),
      eventMailId('acme', 'cloud-api', 'wamid.1', 'message', '1706709000000', domain),
      eventMailId('acme', 'cloud-api', 'wamid.1', 'edit', '1706709000000', domain),
      eventMailId('acme', 'cloud-api', 'wamid.1', 'edit', '1706709999999', domain),
      eventMailId('acme', 'cloud-api', 'wamid.1', 'deletion', '', domain),
      eventMailId('acme', 'cloud-api', 'wamid.1', 'reaction', '', domain),
    ];
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[2]).toBe(`m.${base32(sha256('wa-bridge:v1:acme:cloud-api:wamid.1:edit:1706709000000')).slice(0, 26)}@${domain}`);
  });

  it('gives the hashed id every time, for ids it remembers and after it has forgotten them', () => {
    const expected = (n: number) => `m.${base32(sha256(`wa-bridge:v1:acme:cloud-api:wamid.${n}`)).slice(0, 26)}@${domain}`;
    // More ids than it remembers, then the first ones again (forgotten) and the last ones (remembered).
    for (let n = 0; n < 10_000; n += 1) expect(eventMailId('acme', 'cloud-api', `wamid.${n}`, 'message', '', domain)).toBe(expected(n));
    for (const n of [0, 1, 9_998, 9_999]) expect(eventMailId('acme', 'cloud-api', `wamid.${n}`, 'message', '', domain)).toBe(expected(n));
    // A separator inside a value cannot make two different calls share what is remembered.
    expect(eventMailId('acme', 'cloud-api', 'a\u0000b', 'message', '', domain)).not.toBe(eventMailId('acme', 'cloud-api\u0000a', 'b', 'message', '', domain));
  });

  it('separates tenants and channels', () => {
    const a = eventMailId('acme', 'cloud-api', 'x', 'message', '', domain);
    expect(eventMailId('other', 'cloud-api', 'x', 'message', '', domain)).not.toBe(a);
    expect(eventMailId('acme', 'whatsapp-web', 'x', 'message', '', domain)).not.toBe(a);
  });

  it('refuses a domain that would make an invalid Message-ID', () => {
    expect(() => eventMailId('acme', 'cloud-api', 'x', 'message', '', 'bad domain\r\n')).toThrow(TypeError);
  });
});

describe('rootMailId', () => {
  it('names the chat by its token', () => {
    expect(rootMailId(token, domain)).toBe(`chat.${token}@${domain}`);
  });
});

describe('makeSubject', () => {
  const parts = { clientName: 'Jane Smith', clientWaId: '447700900123', clientUserId: null, chatToken: token };
  const prefixLike = /^[A-Za-z]{1,3}:/;

  it('reads "WhatsApp · name (international number) [WA tag]"', () => {
    expect(makeSubject(parts)).toBe(`WhatsApp · Jane Smith (+44 7700 900123) [WA ${token.slice(0, 6)}]`);
  });

  it('closes a right-to-left name with a left-to-right mark, so the number after it is not drawn backwards', () => {
    const arabic = makeSubject({ ...parts, clientName: 'عمر الهاشمي', clientWaId: '971501112233' });
    expect(arabic).toBe(`WhatsApp · عمر الهاشمي\u200E (+971 50 111 2233) [WA ${token.slice(0, 6)}]`);
    expect(makeSubject({ ...parts, clientName: 'דנה כהן' })).toBe(`WhatsApp · דנה כהן\u200E (+44 7700 900123) [WA ${token.slice(0, 6)}]`);
    // Latin, Cyrillic and Chinese names need none; a name's own bidi controls are still taken out.
    expect(makeSubject({ ...parts, clientName: 'Ольга 王' })).toBe(`WhatsApp · Ольга 王 (+44 7700 900123) [WA ${token.slice(0, 6)}]`);
    expect(makeSubject({ ...parts, clientName: 'Jane\u202Eevil' })).toBe(`WhatsApp · Jane evil (+44 7700 900123) [WA ${token.slice(0, 6)}]`);
  });

  it('is fixed: the same facts always give the same subject', () => {
    expect(makeSubject({ ...parts })).toBe(makeSubject(parts));
  });

  it('uses the number alone without a name, and the user id without a number', () => {
    expect(makeSubject({ ...parts, clientName: null })).toBe(`WhatsApp · +44 7700 900123 [WA ${token.slice(0, 6)}]`);
    expect(makeSubject({ ...parts, clientWaId: null, clientUserId: 'US.13491208655302741918' })).toBe(
      `WhatsApp · Jane Smith (US.13491208655302741918) [WA ${token.slice(0, 6)}]`,
    );
    expect(makeSubject({ ...parts, clientName: '  ', clientWaId: null })).toBe(`WhatsApp · client [WA ${token.slice(0, 6)}]`);
  });

  it('never starts with a 1-3 letter word and a colon, whatever the name', () => {
    for (const clientName of ['RE: Jane', 'AW:', 'FW: fwd', 'x:', null, '']) {
      const subject = makeSubject({ ...parts, clientName });
      expect(subject).not.toMatch(prefixLike);
      expect(subject.startsWith('WhatsApp · ')).toBe(true);
    }
  });

  it('strips control and bidi characters and collapses whitespace in the name', () => {
    const subject = makeSubject({ ...parts, clientName: 'Jane\r\nBcc: evil@x.test\t\u202Eevil\u0000  Smith' });
    expect(subject).not.toMatch(/[\p{Cc}\u202E]/u);
    expect(subject).toContain('Jane Bcc: evil@x.test evil Smith');
  });

  it('caps a long name so that "RE: " plus the subject stays under 254 characters', () => {
    const subject = makeSubject({ ...parts, clientName: '😀'.repeat(400) });
    expect(`RE: ${subject}`.length).toBeLessThan(254);
    expect(subject).toMatch(/… \(\+44 7700 900123\) \[WA [a-z2-7]{6}\]$/);
    expect(Buffer.from(subject, 'utf8').toString('utf8')).toBe(subject); // no surrogate pair was cut
  });
});

describe('Thread-Index (MS-OXOMSG 2.2.1.3, worked example)', () => {
  const guid = Buffer.from('11d1c28abce67c8a680659171643c6ae', 'hex');
  const t0 = Date.parse('2024-01-31T13:45:02Z');

  it('writes the classic root block byte for byte', () => {
    expect(threadIndexHeader(guid, t0).toString('hex')).toBe('01da544bb06c11d1c28abce67c8a680659171643c6ae');
    expect(threadIndex(guid, t0, null)).toBe('AdpUS7BsEdHCirzmfIpoBlkXFkPGrg==');
  });

  it('writes a child one hour later, delta measured from the truncated header time', () => {
    expect(threadIndexChild(t0, t0 + 3_600_000, 0x5a).toString('hex')).toBe('000218715a');
    expect(encodeThreadIndex(guid, t0, { timeMs: t0 + 3_600_000, randomByte: 0x5a })).toBe('AdpUS7BsEdHCirzmfIpoBlkXFkPGrgACGHFa');
  });

  it('writes the T2 child of the root from the example', () => {
    const t2 = Date.parse('2024-02-02T09:00:00Z');
    expect(threadIndexChild(t0, t2, 0x3c).toString('hex')).toBe('005aa0cf3c');
  });

  it('sets DC=1 and shifts by 23 for a delta of 2^49 ticks or more', () => {
    // 730 days = 630 720 000 000 768 ticks after the header time; >> 23 = 0x047b45e3.
    expect(threadIndexChild(t0, t0 + 730 * 86_400_000, 0x01).toString('hex')).toBe('847b45e301');
    // 400 days stays below 2^49 ticks: DC=0 and >> 18.
    expect(threadIndexChild(t0, t0 + 400 * 86_400_000, 0x01).toString('hex')).toBe('4e94914f01');
  });

  it('clamps a child older than the root to a zero delta', () => {
    expect(threadIndexChild(t0, t0 - 60_000, 0x07).toString('hex')).toBe('0000000007');
  });

  it('derives the random byte from the child mail id, so a retry gives identical bytes', () => {
    const a = threadIndex(guid, t0, t0 + 3_600_000, 'm.aaaa@wa.firm.example');
    expect(threadIndex(guid, t0, t0 + 3_600_000, 'm.aaaa@wa.firm.example')).toBe(a);
    const bytes = Buffer.from(a, 'base64');
    expect(bytes).toHaveLength(27);
    expect(bytes.subarray(0, 26).toString('hex')).toBe('01da544bb06c11d1c28abce67c8a680659171643c6ae00021871');
    expect(bytes[26]).toBe(sha256('wa-bridge:v1:thread-index:m.aaaa@wa.firm.example')[0]);
  });

  it('refuses a GUID that is not 16 bytes', () => {
    expect(() => threadIndexHeader(Buffer.alloc(15), t0)).toThrow(RangeError);
  });
});

describe('chatGuid', () => {
  it('is 16 stable bytes per chat', () => {
    const guid = chatGuid(token);
    expect(guid).toHaveLength(16);
    expect(chatGuid(token).equals(guid)).toBe(true);
    const other = makeChatToken('acme', 'cloud-api', makeChatKey('106540352242922', '447700900999'));
    expect(chatGuid(other).equals(guid)).toBe(false);
  });
});

describe('references', () => {
  const root = 'chat.root@wa.firm.example';
  const ids = Array.from({ length: 30 }, (_, i) => `m.${i}@wa.firm.example`);

  it('is the root alone for the first event', () => {
    expect(references(root, [])).toEqual([root]);
  });

  it('keeps the root first and the last 20 earlier ids, parent last', () => {
    const refs = references(root, ids);
    expect(refs).toHaveLength(21);
    expect(refs[0]).toBe(root);
    expect(refs.slice(1)).toEqual(ids.slice(10));
    expect(refs.at(-1)).toBe(ids[29]);
  });

  it('names each id once, even when the root or an id repeats', () => {
    const refs = references(root, [root, 'a@x', 'b@x', 'a@x', 'c@x']);
    expect(refs).toEqual([root, 'b@x', 'a@x', 'c@x']);
  });
});
