import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TranscriptEntry } from '../../core/transcript.js';
import { monoLines, wordLines } from './pdf-text.js';
import { transcriptPdf } from './transcript-pdf.js';

const run = promisify(execFile);

function entry(seq: number, text: string, direction: 'inbound' | 'outbound' = seq % 2 === 0 ? 'outbound' : 'inbound'): TranscriptEntry {
  return {
    seq,
    waMessageId: `wamid.TEST${String(seq).padStart(6, '0')}`,
    kind: 'message',
    direction,
    timestamp: Date.UTC(2026, 2, 29, 0, 30) + seq * 60_000,
    sender: direction === 'inbound' ? 'Jane Smith (+44 7700 900123)' : 'Tom Baker',
    label: 'Message',
    text,
    files: [],
    marks: seq === 3 ? ['Edited once later'] : [],
    chainHash: seq.toString(16).padStart(64, '0'),
  };
}

/**
 * The PDF transcript read back with poppler's pdftotext: every entry's text, its time with the
 * zone's offset and its chain link, on pages that each say which page of how many they are.
 */
describe('transcriptPdf', () => {
  let dir: string;
  let pages: string[];
  const long = 'The landlord wrote again about the deposit and the inventory; '.repeat(12).trim();
  const entries = [
    entry(1, 'Good morning, the landlord wrote again.'),
    entry(2, 'Ünïcödé ✓ 日本語 Привет'),
    entry(3, long),
    entry(4, 'line one\nline two'),
    ...Array.from({ length: 400 }, (_, i) => entry(5 + i, `Message number ${5 + i} about the lease`)),
  ];
  // A message longer than a page: numbered sentences, so each page's share of it can be found.
  const spanning = entry(405, Array.from({ length: 260 }, (_, i) => `Sentence ${i + 1} of the client's statement.`).join(' '));

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wab-pdf-'));
    const pdf = await transcriptPdf({ exportedAt: Date.UTC(2026, 10, 25, 12), exportedBy: 'Compliance Officer', timeZone: 'Europe/London', selection: 'matter M-1' }, [{ title: 'WhatsApp · Jane Smith', client: 'Jane Smith +447700900123', chatId: 'chat0000000000000000000000', entries: [...entries, spanning], imports: [] }], () => undefined);
    await writeFile(path.join(dir, 'transcript.pdf'), pdf);
    const { stdout } = await run('pdftotext', ['-layout', path.join(dir, 'transcript.pdf'), '-']);
    pages = stdout.split('\f').filter((page) => page.trim() !== '');
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('numbers every page out of the total', () => {
    expect(pages.length).toBeGreaterThan(10);
    pages.forEach((page, index) => expect(page).toContain(`WhatsApp transcript · page ${index + 1} of ${pages.length}`));
  });

  it('shows every entry with its text, its time and offset, and its link', () => {
    const text = pages.join('\n').replace(/\s+/g, ' ');
    for (const one of entries) {
      expect(text).toContain(one.text.replace(/\s+/g, ' '));
      expect(text).toContain(`#${one.seq} · ${one.waMessageId} · link`);
      expect(text).toContain(one.chainHash);
    }
    // 29 March 2026: London moves to summer time at 01:00 UTC.
    expect(text).toContain('2026-03-29 00:31:00 GMT+00:00');
    expect(text).toContain('2026-03-29 02:35:00 GMT+01:00');
    expect(text).toContain('Edited once later');
  });

  it('heads each page a message runs onto with its number and time', () => {
    const starts = pages.findIndex((page) => page.includes('Sentence 1 of the'));
    const ends = pages.findIndex((page) => page.includes('Sentence 260 of the'));
    expect(ends).toBeGreaterThan(starts);
    // 00:30 UTC + 405 minutes on 29 March 2026: 08:15 summer time in London.
    const heading = '#405 continued from the previous page · 2026-03-29 08:15:00 GMT+01:00';
    expect(pages[starts]).not.toContain(heading);
    for (let page = starts + 1; page <= ends; page += 1) expect(pages[page]!.split('\n').find((line) => line.trim() !== '')?.trim()).toBe(heading);
    expect(pages.filter((page) => page.includes('continued from the previous page'))).toHaveLength(ends - starts);
  });
});

describe('monoLines', () => {
  it('breaks after a space where it can, and inside a word only when it must', () => {
    expect(monoLines('#12 · wamid.ABC · link 0123456789abcdef', 24)).toEqual(['#12 · wamid.ABC · link', '0123456789abcdef']);
    expect(monoLines('0123456789abcdef', 6)).toEqual(['012345', '6789ab', 'cdef']);
    expect(monoLines('short', 24)).toEqual(['short']);
  });
});

describe('wordLines', () => {
  // Every character half the size wide, a space included.
  const font = { widthOfString: (text: string, size: number) => text.length * size * 0.5 };

  it('breaks at spaces so that each line fits, keeps line breaks and blank lines', () => {
    expect(wordLines(font, 'the landlord wrote again about the deposit', 10, 100)).toEqual(['the landlord wrote', 'again about the', 'deposit']);
    expect(wordLines(font, 'line one\n\nline three', 10, 100)).toEqual(['line one', ' ', 'line three']);
    expect(wordLines(font, 'short', 10, 100)).toEqual(['short']);
  });

  it('leaves to pdfkit a word wider than the line, and text with a carriage return', () => {
    expect(wordLines(font, 'see https://example.test/a/very/long/path/that/does/not/fit', 10, 100)).toBeUndefined();
    expect(wordLines(font, 'one\r\ntwo', 10, 100)).toBeUndefined();
  });
});
