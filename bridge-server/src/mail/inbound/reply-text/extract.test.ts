import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { extractReplyText, MAX_LINES, MAX_TEXT_CHARS } from './extract.js';
import { parseReplySource } from './parse-source.js';

const corpus = new URL('../../../../../tests/fixtures/replies/', import.meta.url);
const inputs = readdirSync(corpus)
  .filter((name) => !name.endsWith('.expected.txt') && /\.(?:eml|txt)$/u.test(name))
  .sort();

describe('reply-text corpus (tests/fixtures/replies)', () => {
  it('has at least 60 cases, each with its expected output', () => {
    expect(inputs.length).toBeGreaterThanOrEqual(60);
    const expected = new Set(readdirSync(corpus).filter((n) => n.endsWith('.expected.txt')));
    for (const name of inputs) expect(expected.has(name.replace(/\.(?:eml|txt)$/u, '.expected.txt')), name).toBe(true);
  });

  it.each(inputs)('%s prints exactly its .expected.txt', async (name) => {
    const input = await parseReplySource(readFileSync(new URL(name, corpus)), name);
    const expected = readFileSync(new URL(name.replace(/\.(?:eml|txt)$/u, '.expected.txt'), corpus), 'utf8');
    // The command prints the text and one newline; the expected files hold exactly that.
    expect(`${extractReplyText(input)}\n`).toBe(expected);
  });
});

describe('extractReplyText', () => {
  it('returns an empty string when there is no body at all', () => {
    expect(extractReplyText({})).toBe('');
    expect(extractReplyText({ text: '\n\n  \n' })).toBe('');
  });

  it('prefers the plain text when the HTML carries no quote markers', () => {
    expect(extractReplyText({ text: 'Plain reply.', html: '<p>HTML reply.</p>' })).toBe('Plain reply.');
  });

  it('uses the HTML when it carries a client quote marker', () => {
    const html = '<div>From HTML.</div><div id="appendonsend"></div><div>From: x<br>Sent: y<br>To: z</div>';
    expect(extractReplyText({ text: 'From plain.\n\nquoted history', html })).toBe('From HTML.');
  });

  it('turns CRLF into LF and trims every line end and the whole text', () => {
    expect(extractReplyText({ text: '\r\n  Hello  \r\n\r\n\r\n\r\nSecond paragraph\t\r\n\r\n' })).toBe('Hello\n\nSecond paragraph');
  });

  it('keeps an Outlook header block as forwarded content when the subject is a forward', () => {
    const text = 'See below.\n\nFrom: A <a@example.com>\nSent: Monday\nTo: B\nSubject: Survey\n\nThe survey.';
    expect(extractReplyText({ text, subject: 'FW: Survey' })).toBe(text);
    expect(extractReplyText({ text, subject: 'RE: FW: Survey' })).toBe('See below.');
  });

  // Speed is measured in the reply_text benchmark; a blow-up here would hold the test past its timeout.
  it('handles a 2 MB single line and 100 000 short lines, considering only the capped part', () => {
    expect(extractReplyText({ text: `Hi\n\n${'x'.repeat(3_000_000)}` })).toBe(`Hi\n\n${'x'.repeat(MAX_TEXT_CHARS - 4)}`);
    const many = Array.from({ length: 100_000 }, (_, i) => `line ${i}`).join('\n');
    expect(extractReplyText({ text: many }).split('\n')).toHaveLength(MAX_LINES);
  });

  it('answers on 20 000 lines of footers, quotes, paragraphs or header-like lines', () => {
    const shapes = [
      Array.from({ length: 20_000 }, (_, i) => (i === 0 ? 'Reply.' : 'Sent from my iPhone')),
      Array.from({ length: 20_000 }, (_, i) => (i % 2 ? `> q${i}` : `a${i}`)),
      Array.from({ length: 20_000 }, (_, i) => (i % 2 ? '' : `Kind regards ${i}`)),
      Array.from({ length: 20_000 }, (_, i) => (i % 3 === 2 ? '' : i % 3 ? 'To: x' : 'From: y')),
      Array.from({ length: 20_000 }, (_, i) => (i % 2 ? '-Tom' : '')),
    ];
    const results = shapes.map((shape) => extractReplyText({ text: shape.join('\n') }));
    // 20 000 "Sent from my iPhone" lines are all footer: only the reply stays.
    expect(results[0]).toBe('Reply.');
    for (const result of results) expect(result.length).toBeGreaterThan(0);
  });

  it('renders 200 000 nested elements without exhausting the stack', () => {
    const html = `<p>Top reply.</p>${'<div><blockquote>'.repeat(100_000)}deep${'</blockquote></div>'.repeat(100_000)}`;
    expect(extractReplyText({ html })).toBe('Top reply.');
  });

  it('survives binary-looking text without throwing', () => {
    const junk = Array.from({ length: 5000 }, (_, i) => String.fromCharCode((i * 7919) % 0xd7ff)).join('');
    expect(() => extractReplyText({ text: junk, html: junk })).not.toThrow();
  });
});

describe('parseReplySource', () => {
  it('refuses binary data and a message without header fields', async () => {
    await expect(parseReplySource(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x1a]), 'scan.txt')).rejects.toThrow(/binary/u);
    await expect(parseReplySource(Buffer.from('just some words\n\nand more'), 'reply.eml')).rejects.toThrow(/no RFC 5322 header/u);
  });

  it('reads a .txt as UTF-8, falling back to Windows-1252', async () => {
    expect(await parseReplySource(Buffer.from('Caf\u00e9 \u20ac', 'utf8'), 'a.txt')).toEqual({ text: 'Caf\u00e9 \u20ac' });
    expect(await parseReplySource(Buffer.from([0x43, 0x61, 0x66, 0xe9, 0x20, 0x80]), 'a.txt')).toEqual({ text: 'Caf\u00e9 \u20ac' });
  });

  it('sniffs a message by its header fields when the name says neither .eml nor .txt', async () => {
    const raw = 'From: a@example.com\r\nSubject: Re: x\r\nContent-Type: text/plain\r\n\r\nBody.\r\n';
    expect(await parseReplySource(Buffer.from(raw), 'reply.msg')).toEqual({ text: 'Body.\n', subject: 'Re: x' });
    expect(await parseReplySource(Buffer.from('Body only.'), 'reply')).toEqual({ text: 'Body only.' });
  });
});
