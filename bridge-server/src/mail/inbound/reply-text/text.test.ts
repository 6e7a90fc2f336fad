import { describe, expect, it } from 'vitest';
import { htmlToReplyText, MAX_HTML_DEPTH, nestingLimitIndex } from './html.js';
import { stripSignature } from './signature.js';
import { cutQuotedHistory, headerBlockLength } from './text.js';

const lines = (text: string) => text.split('\n');

describe('cutQuotedHistory', () => {
  it('needs a From line and two more header roles to see a header block', () => {
    expect(headerBlockLength(lines('From: A\nSent: today\nTo: B\nSubject: x'), 0)).toBe(4);
    expect(headerBlockLength(lines('From: A\nTo: B\n\nSubject: x'), 0)).toBe(0);
    expect(headerBlockLength(lines('Sent: today\nFrom: A\nTo: B'), 0)).toBe(0);
  });

  it('lets a long To: list wrap inside the block', () => {
    expect(headerBlockLength(lines('From: A\nSent: today\nTo: B; C; D;\n E; F\nSubject: x'), 0)).toBe(5);
  });

  it('keeps an attribution-like sentence that no quote follows', () => {
    const text = 'Update:\n\nOn 2 June the lender wrote:\n"We are satisfied."';
    expect(cutQuotedHistory(lines(text)).reply).toEqual(lines(text));
  });

  it('keeps answers written between quoted lines and drops the quotes', () => {
    const { reply } = cutQuotedHistory(lines('On Mon, A wrote:\n> Q1\nA1\n> Q2\n> more\nA2'));
    expect(reply.filter((l) => l !== '')).toEqual(['A1', 'A2']);
  });

  it('stops collecting inline answers at older, unquoted history', () => {
    const { reply } = cutQuotedHistory(lines('> Q1\nA1\n\n-----Original Message-----\nFrom: A\nold text'));
    expect(reply.filter((l) => l !== '')).toEqual(['A1']);
  });

  it('splits a forward into the note and the forwarded content', () => {
    const cut = cutQuotedHistory(lines('See below.\n\nBegin forwarded message:\n\n> From: A'));
    expect(cut.reply).toEqual(['See below.', '']);
    expect(cut.forwarded?.[0]).toBe('Begin forwarded message:');
  });
});

describe('stripSignature', () => {
  it('drops a closing and its name block but not a closing that is the whole reply', () => {
    expect(stripSignature(lines('Yes.\n\nKind regards,\nTom\nPartner | Firm LLP'))).toEqual(['Yes.']);
    expect(stripSignature(lines('Thanks!'))).toEqual(['Thanks!']);
  });

  it('keeps a closing when a full sentence follows it', () => {
    const text = 'Hi Maria,\nThanks\nThe completion is now fixed for Friday at noon.';
    expect(stripSignature(lines(text))).toEqual(lines(text));
  });

  it('keeps a last list item that looks like a dashed sign-off', () => {
    expect(stripSignature(lines('Bring:\n- Passport'))).toEqual(['Bring:', '- Passport']);
    expect(stripSignature(lines('Done.\n\n-Tom'))).toEqual(['Done.']);
  });

  it('never takes the first paragraph for a disclaimer', () => {
    const text = 'This email is confidential and may be privileged, as you asked.';
    expect(stripSignature([text])).toEqual([text]);
  });
});

describe('htmlToReplyText', () => {
  it('renders Word paragraphs as lines and other paragraphs with a blank line between', () => {
    expect(htmlToReplyText('<p class=MsoNormal>a</p><p class=MsoNormal>b</p>').text).toBe('a\nb');
    expect(htmlToReplyText('<p>a</p><p>b</p>').text).toBe('a\n\nb');
  });

  it('quotes blockquotes, but not a forwarded one nor an indent', () => {
    expect(htmlToReplyText('<div>x</div><blockquote type="cite">q</blockquote>').text).toBe('x\n> q');
    expect(htmlToReplyText('<blockquote type="cite"><div>Begin forwarded message:</div>f</blockquote>').text).toBe('Begin forwarded message:\nf');
    expect(htmlToReplyText('<blockquote style="margin:0 0 0 40px;border:none;padding:0px">indented</blockquote>').text).toBe('indented');
  });

  it('writes the target of a link whose text is not the address', () => {
    expect(htmlToReplyText('<a href="https://example.com/pay">Pay here</a>').text).toBe('Pay here (https://example.com/pay)');
    expect(htmlToReplyText('<a href="mailto:a@example.com">a@example.com</a>').text).toBe('a@example.com');
  });

  it('cuts at Exchange-prefixed Outlook containers', () => {
    const reply = htmlToReplyText('<div>Mine</div><div id="x_x_divRplyFwdMsg">From: them</div><div>theirs</div>');
    expect(reply).toEqual({ text: 'Mine', hasMarkers: true });
  });

  it('stops parsing where elements nest deeper than the limit', () => {
    const html = `${'<div>'.repeat(MAX_HTML_DEPTH + 10)}x`;
    expect(nestingLimitIndex(html)).toBe(MAX_HTML_DEPTH * 5);
    expect(nestingLimitIndex(`${'<br><p>'.repeat(5000)}`)).toBe(5000 * 7);
    expect(nestingLimitIndex(`${'<a'.repeat(100_000)}`)).toBe(200_000);
  });
});
