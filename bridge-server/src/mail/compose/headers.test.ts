import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../core/errors.js';
import { checkHeader, checkHeaderBlock } from './headers.js';

function thrown(fn: () => unknown): BadInputError {
  try {
    fn();
  } catch (error) {
    if (error instanceof BadInputError) return error;
    throw error;
  }
  throw new Error('expected a BadInputError');
}

describe('checkHeader', () => {
  it('passes a safe value through unchanged, non-ASCII included', () => {
    expect(checkHeader('Subject', 'WhatsApp · Zoë (+44 7700 900123)')).toBe('WhatsApp · Zoë (+44 7700 900123)');
  });

  it.each([
    ['CRLF', 'Jane\r\nBcc: evil@x.test'],
    ['bare LF', 'Jane\nBcc: evil@x.test'],
    ['bare CR', 'Jane\rBcc: evil@x.test'],
  ])('refuses a value with %s as header_injection, without echoing the value', (_label, value) => {
    const error = thrown(() => checkHeader('From', value));
    expect(error.code).toBe('header_injection');
    expect(error.status).toBe(400);
    expect(error.message).toContain('From');
    expect(error.message).not.toContain('evil');
  });

  it('refuses a field name that is not an RFC 5322 field name', () => {
    expect(thrown(() => checkHeader('X-Bad: x', 'v')).code).toBe('header_name_invalid');
    expect(thrown(() => checkHeader('X-Bad\r\nBcc', 'v')).code).toBe('header_name_invalid');
    expect(thrown(() => checkHeader('', 'v')).code).toBe('header_name_invalid');
  });
});

describe('checkHeaderBlock', () => {
  it('accepts an ASCII header block followed by any body', () => {
    expect(() => checkHeaderBlock(Buffer.from('Subject: =?UTF-8?Q?Zo=C3=AB?=\r\nX-A: b\r\n\r\nbody Zoë\r\n'))).not.toThrow();
  });

  it('refuses raw 8-bit text in a header', () => {
    expect(thrown(() => checkHeaderBlock(Buffer.from('Subject: Zoë\r\n\r\nbody'))).code).toBe('header_not_ascii');
  });

  it('refuses a bare LF and an over-long line', () => {
    expect(thrown(() => checkHeaderBlock(Buffer.from('Subject: a\nBcc: b\r\n\r\n'))).code).toBe('header_line_invalid');
    expect(thrown(() => checkHeaderBlock(Buffer.from(`X-Long: ${'a'.repeat(1000)}\r\n\r\n`))).code).toBe('header_line_invalid');
  });

  it('refuses a bare CR, a control byte and DEL, and takes a folded line of exactly 998 characters', () => {
    expect(thrown(() => checkHeaderBlock(Buffer.from('Subject: a\rBcc: b\r\n\r\n'))).code).toBe('header_line_invalid');
    expect(thrown(() => checkHeaderBlock(Buffer.from('X-A: b\r\nX-B: c\r'))).code).toBe('header_line_invalid');
    expect(thrown(() => checkHeaderBlock(Buffer.from('X-A: b\x00c\r\n\r\n'))).code).toBe('header_not_ascii');
    expect(thrown(() => checkHeaderBlock(Buffer.from('X-A: b\x7fc\r\n\r\n'))).code).toBe('header_not_ascii');
    const longest = `X-Long: ${'a'.repeat(998 - 'X-Long: '.length)}`;
    expect(() => checkHeaderBlock(Buffer.from(`${longest}\r\n\tfolded\r\n\r\n${'b'.repeat(5000)}\r\n`))).not.toThrow();
    expect(thrown(() => checkHeaderBlock(Buffer.from(`${longest}a\r\n\r\n`))).code).toBe('header_line_invalid');
  });
});
