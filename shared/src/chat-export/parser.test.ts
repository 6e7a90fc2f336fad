import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExportDecoder } from './decode.js';
import { ChatExportError } from './errors.js';
import { ChatExportParser, parseChatExportText, toNdjsonLine, type ParsedMessage } from './parser.js';
import { ExportProfiler } from './profile.js';

const corpus = fileURLToPath(new URL('../../../tests/fixtures/exports/', import.meta.url));
const cases = readdirSync(corpus).filter((f) => f.endsWith('.txt'));
const ndjson = (messages: ParsedMessage[]) => messages.map(toNdjsonLine).join('');

/** Both passes over the text cut into the given chunks, as the file readers feed them. */
function parseInChunks(chunks: string[]): ParsedMessage[] {
  const profiler = new ExportProfiler();
  for (const c of chunks) profiler.push(c);
  const profile = profiler.end();
  const parser = new ChatExportParser({ dateOrder: profile.dateOrder, colonAuthors: profile.colonAuthors });
  return [...chunks.flatMap((c) => parser.push(c)), ...parser.end()];
}

describe('chat-export parser on the fixture corpus', () => {
  it('has one expected NDJSON file per export', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
    for (const name of cases) expect(readdirSync(corpus)).toContain(name.replace(/\.txt$/, '.ndjson'));
  });

  it.each(cases)('parses %s exactly as expected', (name) => {
    const text = readFileSync(path.join(corpus, name), 'utf8');
    expect(ndjson(parseChatExportText(text))).toBe(readFileSync(path.join(corpus, name.replace(/\.txt$/, '.ndjson')), 'utf8'));
  });

  it('gives the same messages however the text is cut into chunks', () => {
    const texts = cases.map((name) => readFileSync(path.join(corpus, name), 'utf8'));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: texts.length - 1 }), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 30 }), (i, sizes) => {
        const text = texts[i]!;
        const chunks: string[] = [];
        let at = 0;
        for (let k = 0; at < text.length; k += 1) {
          const size = sizes[k % sizes.length]!;
          chunks.push(text.slice(at, at + size));
          at += size;
        }
        expect(ndjson(parseInChunks(chunks))).toBe(ndjson(parseChatExportText(text)));
      }),
      { numRuns: 200 },
    );
  });
});

describe('chat-export parser details', () => {
  const one = (text: string, order?: 'dmy' | 'mdy' | 'ymd') => parseChatExportText(text, order ? { dateOrder: order } : {});

  it('reads 12 AM as midnight and 12 PM as noon', () => {
    const out = one('1/2/24, 12:00 AM - A: x\n1/2/24, 12:59 PM - A: y\n1/13/24, 1:00 PM - A: z\n');
    expect(out.map((m) => m.date)).toEqual(['2024-01-02T00:00:00', '2024-01-02T12:59:00', '2024-01-13T13:00:00']);
  });

  it('lets --date-order override what the file suggests', () => {
    const text = '03/04/24, 10:00 - A: x\n05/04/24, 10:00 - A: y\n';
    expect(one(text).map((m) => m.date.slice(0, 10))).toEqual(['2024-04-03', '2024-04-05']);
    expect(one(text, 'mdy').map((m) => m.date.slice(0, 10))).toEqual(['2024-03-04', '2024-05-04']);
  });

  it('infers the order from the whole file, not the first lines', () => {
    // Alone, these 500 lines read month first (the second part goes down, so it is the day)...
    const lines = Array.from({ length: 500 }, (_, i) => `01/0${1 + (i % 9)}/2024, 10:00 - A: m${i}`);
    expect(one(`${lines.join('\n')}\n`)[1]!.date.slice(0, 10)).toBe('2024-01-02');
    // ...and one day above 12 at the very end settles it the other way for every line.
    lines.push('25/01/2024, 10:00 - A: last');
    const out = one(`${lines.join('\n')}\n`);
    expect(out[1]!.date.slice(0, 10)).toBe('2024-02-01');
    expect(out.at(-1)!.date.slice(0, 10)).toBe('2024-01-25');
  });

  it('records the line each message starts on', () => {
    const out = one('[1/2/24, 10:00:00] A: x\nmore\n\n[1/2/24, 10:01:00] B: y\n');
    expect(out.map((m) => m.line)).toEqual([1, 4]);
  });

  it('keeps a continuation line that only looks like a header', () => {
    const out = one('14/03/2024, 09:12 - A: list\n12/05/2024 10:00 meeting confirmed\n14/03/2024, 09:13 - B: ok\n');
    expect(out).toHaveLength(2);
    expect(out[0]!.message).toBe('list\n12/05/2024 10:00 meeting confirmed');
  });

  it('drops text before the first header instead of inventing a message', () => {
    expect(one('exported by a tool\n14/03/2024, 09:12 - A: hi\n').map((m) => m.message)).toEqual(['hi']);
  });

  it('refuses a text with no header in its first lines as no export', () => {
    const text = Array.from({ length: 300 }, (_, i) => `line ${i}: nothing here`).join('\n');
    expect(() => one(text)).toThrow(ChatExportError);
    expect(() => one(text)).toThrow(/not a WhatsApp chat export/);
  });

  it('refuses an empty file', () => {
    expect(() => one('')).toThrow(/not a WhatsApp chat export/);
  });

  it('refuses a message longer than any WhatsApp allows', () => {
    const text = `14/03/2024, 09:12 - A: start\n${'x'.repeat(1000)}\n`.padEnd(10, 'x') + `${'y'.repeat(1100)}\n`.repeat(1000);
    expect(() => one(text)).toThrow(/runs past/);
  });

  it('gives no attachment for a line that only mentions a file', () => {
    const out = one('14/03/2024, 09:12 - A: see report.pdf (sent yesterday)\n');
    expect(out[0]!.attachment).toBeUndefined();
  });

  it('prints the contract keys in order and nothing else', () => {
    const line = toNdjsonLine({ date: '2024-01-02T03:04:05', author: 'A "quoted"', message: 'x\ny', attachment: { fileName: 'f.jpg' }, line: 9 } as ParsedMessage);
    expect(line).toBe('{"date":"2024-01-02T03:04:05","author":"A \\"quoted\\"","message":"x\\ny","attachment":{"fileName":"f.jpg"}}\n');
    expect(Object.keys(JSON.parse(line))).toEqual(['date', 'author', 'message', 'attachment']);
  });

  it('writes every text as JSON.stringify would, whether or not it needs escapes', () => {
    // Quotes, backslashes, controls, lone and paired surrogates, U+2028 and plain text.
    const tricky = fc.oneof(fc.string({ unit: 'binary' }), fc.string(), fc.constantFrom('\ud800', 'a\udfffb', '😀', '\u2028', '\\', '"', '\u0000\u001f\u007f'));
    fc.assert(
      fc.property(tricky, fc.option(tricky), (message, author) => {
        const line = toNdjsonLine({ date: '2024-01-02T03:04:05', author, message });
        expect(line).toBe(`${JSON.stringify({ date: '2024-01-02T03:04:05', author, message })}\n`);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("WhatsApp's own notices in iOS exports", () => {
  // PROTOCOLS.md 5.3: iOS writes its notices as authored lines, the chat's name (in a chat of two,
  // the client's) as the author and LRM before the text (or, sometimes, before the "["); Android
  // writes them with no author at all.
  const lrm = '\u200e';
  const notice = 'Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them.';
  const read = (...lines: string[]) => parseChatExportText(`${lines.join('\n')}\n`).map(({ author, message, attachment }) => (attachment ? { author, message, file: attachment.fileName } : { author, message }));

  it("takes the notice under the client's name for WhatsApp's, in a chat of two and in a group", () => {
    expect(read(`[25/11/2026, 09:14:03] Jane Client: ${lrm}${notice}`, '[25/11/2026, 09:15:10] Jane Client: Good morning', '[25/11/2026, 09:16:00] Tom Baker: Morning Jane')).toEqual([
      { author: null, message: notice },
      { author: 'Jane Client', message: 'Good morning' },
      { author: 'Tom Baker', message: 'Morning Jane' },
    ]);
    expect(read(`[11/25/26, 9:14:03\u202fAM] Lease of 4 High St: ${lrm}${notice}`, `[11/25/26, 9:14:03\u202fAM] Lease of 4 High St: ${lrm}Tom Baker added Jane Client`, '[11/25/26, 9:20:00\u202fAM] Jane Client: Hello all')).toEqual([
      { author: null, message: notice },
      { author: null, message: 'Tom Baker added Jane Client' },
      { author: 'Jane Client', message: 'Hello all' },
    ]);
  });

  it('takes a notice for WhatsApp\'s when the group\'s name holds ": ", even where the name is written once', () => {
    // One notice only: the first pass cannot learn the name from its repeats.
    expect(read(`[11/25/26, 9:14:03\u202fAM] Smith: Jones sale: ${lrm}${notice}`, '[11/25/26, 9:20:00\u202fAM] Jane Client: Hello all', '[11/25/26, 9:21:00\u202fAM] Tom Baker: Re: the deposit: paid')).toEqual([
      { author: null, message: notice },
      { author: 'Jane Client', message: 'Hello all' },
      { author: 'Tom Baker', message: 'Re: the deposit: paid' },
    ]);
    // The mark before the "[" instead of the text: the encryption notice still is WhatsApp's.
    expect(read(`${lrm}[25/11/2026, 09:14:03] Smith: Jones sale: ${notice}`, '[25/11/2026, 09:15:10] Jane Client: Good morning')).toEqual([
      { author: null, message: notice },
      { author: 'Jane Client', message: 'Good morning' },
    ]);
    // A file whose name reads like a notice, on a line marked before the "[", stays the sender's.
    expect(read(`${lrm}[25/11/2026, 09:15:30] Jane Client: ${lrm}<attached: 00000015-Inventory of items removed from the flat.pdf>`)).toEqual([
      { author: 'Jane Client', message: '<attached: 00000015-Inventory of items removed from the flat.pdf>', file: '00000015-Inventory of items removed from the flat.pdf' },
    ]);
    // A person's text that quotes a notice after a colon, without WhatsApp's mark, stays theirs.
    expect(read(`[25/11/2026, 09:14:03] Jane Client: It said: ${notice}`, '[25/11/2026, 09:15:10] Tom Baker: Fine')).toEqual([
      { author: 'Jane Client', message: `It said: ${notice}` },
      { author: 'Tom Baker', message: 'Fine' },
    ]);
    // Android writes notices with no author, so a dashed line with a name is a person's.
    expect(read(`25/11/2026, 09:14 - Jane Client: It said: ${lrm}${notice}`, '25/11/2026, 09:15 - Tom Baker: Fine')).toEqual([
      { author: 'Jane Client', message: `It said: ${lrm}${notice}` },
      { author: 'Tom Baker', message: 'Fine' },
    ]);
  });

  it('takes a security code change under the client\'s name for a notice', () => {
    expect(read(`[25/11/2026, 09:14:03] Jane Client: ${lrm}Your security code with Jane Client changed. Tap to learn more.`, '[25/11/2026, 09:15:10] Jane Client: New phone!')).toEqual([
      { author: null, message: 'Your security code with Jane Client changed. Tap to learn more.' },
      { author: 'Jane Client', message: 'New phone!' },
    ]);
  });

  it('takes the notice for WhatsApp\'s when the mark stands before the "[" instead', () => {
    expect(read(`${lrm}[25/11/2026, 09:14:03] Jane Client: ${notice}`, '[25/11/2026, 09:15:10] Jane Client: Good morning')).toEqual([
      { author: null, message: notice },
      { author: 'Jane Client', message: 'Good morning' },
    ]);
  });

  it('leaves the text to the client who typed it, without the mark', () => {
    const typed = 'Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them. So I can send the bank details here?';
    expect(read(`[25/11/2026, 09:14:03] Jane Client: ${typed}`, '[25/11/2026, 09:15:10] Tom Baker: Please do not')).toEqual([
      { author: 'Jane Client', message: typed },
      { author: 'Tom Baker', message: 'Please do not' },
    ]);
    expect(read('[25/11/2026, 09:14:03] Jane Client: Messages and calls are end-to-end encrypted', '[25/11/2026, 09:14:30] Jane Client: Tom added the clause')).toEqual([
      { author: 'Jane Client', message: 'Messages and calls are end-to-end encrypted' },
      { author: 'Jane Client', message: 'Tom added the clause' },
    ]);
  });

  it('leaves to the client an Android line that starts with the mark: Android writes no notice with an author', () => {
    expect(read('25/11/2026, 09:12 - Messages and calls are end-to-end encrypted. Tap to learn more.', `25/11/2026, 09:14 - Jane Client: ${lrm}${notice}`)).toEqual([
      { author: null, message: 'Messages and calls are end-to-end encrypted. Tap to learn more.' },
      { author: 'Jane Client', message: notice },
    ]);
  });

  it("leaves to the client a file they sent whose name reads like a notice: iOS marks attachments too", () => {
    expect(read('[25/11/2026, 09:13:40] Jane Client: Both files', `[25/11/2026, 09:14:03] Jane Client: ${lrm}<attached: 00000015-Inventory of items removed from the flat.pdf>`, `[25/11/2026, 09:15:03] Jane Client: ${lrm}<attached: 00000016-Tom added clause 4.docx>`)).toEqual([
      { author: 'Jane Client', message: 'Both files' },
      { author: 'Jane Client', message: '<attached: 00000015-Inventory of items removed from the flat.pdf>', file: '00000015-Inventory of items removed from the flat.pdf' },
      { author: 'Jane Client', message: '<attached: 00000016-Tom added clause 4.docx>', file: '00000016-Tom added clause 4.docx' },
    ]);
  });
});

describe('export decoder', () => {
  const encoder = new TextEncoder();

  it('drops a UTF-8 BOM and joins characters split across chunks', () => {
    const bytes = encoder.encode('\ufeff14/03/2024, 09:12 - Zoë 🌸: ok');
    const decoder = new ExportDecoder();
    const text = [decoder.decode(bytes.slice(0, 2)), decoder.decode(bytes.slice(2, 30)), decoder.decode(bytes.slice(30)), decoder.end()].join('');
    expect(text).toBe('14/03/2024, 09:12 - Zoë 🌸: ok');
  });

  it('reads UTF-16 when a UTF-16 BOM says so', () => {
    const text = '14/03/2024, 09:12 - A: ok';
    const bytes = new Uint8Array(2 + text.length * 2);
    bytes.set([0xff, 0xfe]);
    for (let i = 0; i < text.length; i += 1) bytes[2 + i * 2] = text.charCodeAt(i);
    expect(new ExportDecoder().decode(bytes, true)).toBe(text);
  });

  it('refuses binary data', () => {
    expect(() => new ExportDecoder().decode(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0, 0, 1, 2]))).toThrow(/binary data/);
    const junk = new Uint8Array(4096).map((_, i) => 0x80 + (i % 64));
    expect(() => new ExportDecoder().decode(junk)).toThrow(/not UTF-8 text/);
  });
});
