import { describe, expect, it } from 'vitest';
import { toHeaderText, truncateText } from './header-text.js';

describe('toHeaderText', () => {
  it('turns line breaks, controls, line separators and bidi overrides into single spaces', () => {
    expect(toHeaderText(' Jane\r\nBcc:\u0085x\u2028y\u202Ez\u0000 ')).toBe('Jane Bcc: x y z');
  });

  it('keeps letters, emoji and joiners', () => {
    expect(toHeaderText('Zoë 👩‍⚖️ 王芳')).toBe('Zoë 👩‍⚖️ 王芳');
  });
});

describe('truncateText', () => {
  it('leaves short text alone and marks a cut with an ellipsis within the limit', () => {
    expect(truncateText('short', 10)).toBe('short');
    expect(truncateText('abcdefghij', 5)).toBe('abcd…');
  });

  it('never cuts a surrogate pair in half', () => {
    const cut = truncateText('😀😀😀', 4);
    expect(cut).toBe('😀…');
  });
});
