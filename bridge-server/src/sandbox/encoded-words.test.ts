import { describe, expect, it } from 'vitest';
import { decodeEncodedWords } from './encoded-words.js';

describe('decodeEncodedWords', () => {
  it('decodes Q and B words and drops the space between adjacent words', () => {
    expect(decodeEncodedWords('=?UTF-8?Q?WhatsApp_=C2=B7_Jane_Smith_=28+447700900?= =?UTF-8?Q?123=29_=5BWA_test01=5D?=')).toBe('WhatsApp · Jane Smith (+447700900123) [WA test01]');
    expect(decodeEncodedWords(`=?utf-8?B?${Buffer.from('José Núñez').toString('base64')}?=`)).toBe('José Núñez');
  });

  it('joins a character split across two words', () => {
    // "·" is C2 B7 in UTF-8; an encoder may cut between the two bytes.
    expect(decodeEncodedWords('=?UTF-8?Q?a=C2?= =?UTF-8?Q?=B7b?=')).toBe('a·b');
  });

  it('keeps plain text around words, other charsets, and text that only looks encoded', () => {
    expect(decodeEncodedWords('Re: =?ISO-8859-1?Q?caf=E9?= today')).toBe('Re: café today');
    expect(decodeEncodedWords('cloud:1:447700900123')).toBe('cloud:1:447700900123');
    expect(decodeEncodedWords('=?bogus-charset?Q?abc?=')).toBe('abc');
    expect(decodeEncodedWords('a =? b ?= c')).toBe('a =? b ?= c');
  });
});
