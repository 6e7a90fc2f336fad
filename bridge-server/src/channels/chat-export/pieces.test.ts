import { mergeProfiles, type ExportProfile, type ParserOptions } from '@wa-bridge/shared/chat-export';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parallelExportNdjson, type OutputPiece } from './parallel.js';
import { ndjsonFrom, parsePiece, profilePart, type ExportFile } from './pieces.js';
import { profileExport, readExportNdjson } from './read.js';
import { openExportSource } from './source.js';

const corpus = fileURLToPath(new URL('../../../../tests/fixtures/exports/', import.meta.url));
const scratch = mkdtempSync(path.join(tmpdir(), 'wab-pieces-'));
const opened: number[] = [];
afterAll(() => {
  for (const fd of opened) closeSync(fd);
  rmSync(scratch, { recursive: true, force: true });
});

/** Every fixture as it is, with CR-only and CRLF line ends, and repeated (dates going back at each repeat). */
const files = readdirSync(corpus)
  .filter((f) => f.endsWith('.txt'))
  .flatMap((name) => {
    const text = readFileSync(path.join(corpus, name), 'utf8').replace(/^\ufeff/, '');
    const lf = text.replace(/\r\n?/g, '\n');
    return [
      [name, readFileSync(path.join(corpus, name))],
      [`${name}.cr`, Buffer.from(lf.replace(/\n/g, '\r'))],
      [`${name}.crlf`, Buffer.from(`\ufeff${lf.replace(/\n/g, '\r\n')}`)],
      [`${name}.x5`, Buffer.from(lf.repeat(5))],
    ] as const;
  })
  .map(([name, bytes]) => {
    const file = path.join(scratch, name);
    writeFileSync(file, bytes);
    return file;
  });

function open(file: string): ExportFile {
  const fd = openSync(file, 'r');
  opened.push(fd);
  return { fd, size: statSync(file).size };
}

async function onePass(file: string): Promise<{ profile: ExportProfile; ndjson: string }> {
  const source = await openExportSource(file);
  let ndjson = '';
  for await (const text of readExportNdjson(source)) ndjson += text;
  return { profile: await profileExport(source), ndjson };
}

const texts = (pieces: { ndjson: Uint8Array }[]) => Buffer.concat(pieces.map((p) => p.ndjson)).toString('utf8');

/** Consecutive pieces of `pieceBytes` nominal bytes over the whole file. */
function allPieces(file: ExportFile, pieceBytes: number, options: ParserOptions) {
  const pieces = [];
  for (let from = 0; from < file.size; from += pieceBytes) pieces.push(parsePiece(file, from, Math.min(file.size, from + pieceBytes), options));
  return pieces;
}

describe('parse-export in pieces', () => {
  it('gives the one-pass NDJSON for any piece size, the pieces covering the file edge to edge', async () => {
    const cases = await Promise.all(files.map(async (file) => ({ file: open(file), ...(await onePass(file)) })));
    fc.assert(
      fc.property(fc.constantFrom(...cases), fc.integer({ min: 1, max: 400 }), ({ file, profile, ndjson }, pieceBytes) => {
        const options = { dateOrder: profile.dateOrder, colonAuthors: profile.colonAuthors };
        const pieces = allPieces(file, pieceBytes, options);
        expect(texts(pieces)).toBe(ndjson);
        let start = 0;
        for (const piece of pieces) {
          expect(piece.start).toBe(start);
          start = piece.end;
        }
        expect(start).toBe(file.size);
        // Line counts add up to the file's, so a resumed pass numbers lines as one pass does.
        const lf = readFileSync(files[cases.findIndex((c) => c.file === file)]!, 'utf8').replace(/\r\n?/g, '\n');
        expect(pieces.reduce((n, p) => n + p.lines, 0)).toBe(lf.split('\n').length - (lf.endsWith('\n') ? 1 : 0));
      }),
      { numRuns: 1500 },
    );
  });

  it('resumes in one pass from any piece with the same output', async () => {
    const cases = await Promise.all(files.map(async (file) => ({ file: open(file), ...(await onePass(file)) })));
    fc.assert(
      fc.property(fc.constantFrom(...cases), fc.integer({ min: 1, max: 200 }), fc.nat(), ({ file, profile, ndjson }, pieceBytes, pick) => {
        const options = { dateOrder: profile.dateOrder, colonAuthors: profile.colonAuthors };
        const pieces = allPieces(file, pieceBytes, options);
        const k = pick % pieces.length;
        const before = pieces.slice(0, k);
        const rest = [...ndjsonFrom(file, k === 0 ? 0 : before.at(-1)!.end, { ...options, linesBefore: before.reduce((n, p) => n + p.lines, 0) })].join('');
        expect(texts(before) + rest).toBe(ndjson);
      }),
      { numRuns: 500 },
    );
  });

  it('profiles the file in parts into the one-pass profile', async () => {
    for (const name of files) {
      const file = open(name);
      const { profile } = await onePass(name);
      for (let count = 1; count <= 5; count += 1) {
        const parts = Array.from({ length: count }, (_, i) => profilePart(file, i, count));
        const merged = mergeProfiles(parts);
        if (merged === undefined) expect(parts[0]!.headers, name).toBe(0);
        else expect(merged, `${name} in ${count}`).toEqual(profile);
      }
    }
  });
});

describe('parse-export threads', () => {
  const threadUrl = new URL('./pieces-thread.js', import.meta.url);

  /** The output, each piece copied before its buffer goes back to the threads for reuse. */
  async function collect(run: AsyncGenerator<OutputPiece | string>): Promise<string> {
    const parts: Buffer[] = [];
    for await (const part of run) {
      if (typeof part === 'string') parts.push(Buffer.from(part));
      else {
        parts.push(Buffer.from(part.bytes));
        part.release();
      }
    }
    return Buffer.concat(parts).toString('utf8');
  }

  it('writes the one-pass NDJSON from two threads, in file order', async () => {
    const file = path.join(scratch, 'many.txt');
    const mixed = ['names-colon-emoji.txt', 'crlf-bom-windows.txt', 'continuation-looks-like-date.txt'].map((n) => readFileSync(path.join(corpus, n), 'utf8').replace(/^\ufeff/, ''));
    writeFileSync(file, Array.from({ length: 400 }, (_, i) => mixed[i % 3]).join(''));
    const { ndjson } = await onePass(file);
    const source = await openExportSource(file);
    const warnings: string[] = [];
    const out = await collect(parallelExportNdjson(file, source.size, { threads: 2, threadUrl, pieceBytes: 4096, warn: (m) => warnings.push(m) }, () => profileExport(source)));
    expect(out).toBe(ndjson);
    expect(warnings).toEqual([]);
  });

  it('reads on in one stream when the threads fail, and says so', async () => {
    const file = path.join(scratch, 'android-fi-klo.txt.x5');
    const { ndjson } = await onePass(file);
    const source = await openExportSource(file);
    const broken = new URL(`data:text/javascript,${encodeURIComponent("import { parentPort } from 'node:worker_threads'; parentPort.on('message', () => { throw new Error('thread broke'); });")}`);
    const warnings: string[] = [];
    const out = await collect(parallelExportNdjson(file, source.size, { threads: 2, threadUrl: broken, pieceBytes: 64, warn: (m) => warnings.push(m) }, () => profileExport(source)));
    expect(out).toBe(ndjson);
    expect(warnings[0]).toMatch(/^a parse-export thread failed \(thread broke\)/);
  });

  it('refuses binary data in a later part before writing anything, as one pass does', async () => {
    const file = path.join(scratch, 'junk-at-end.txt');
    const text = readFileSync(path.join(corpus, 'android-24h-uk-dash.txt'), 'utf8');
    writeFileSync(file, Buffer.concat([Buffer.from(text.repeat(200)), Buffer.from([0, 1, 2, 0, 0xff]), Buffer.from(text)]));
    const source = await openExportSource(file);
    const onePassError = await profileExport(source).catch((error: unknown) => error as Error);
    expect((onePassError as Error).message).toMatch(/binary data/);
    let written = 0;
    const threadsError = await (async () => {
      for await (const part of parallelExportNdjson(file, source.size, { threads: 3, threadUrl, pieceBytes: 1024 }, () => profileExport(source))) written += typeof part === 'string' ? part.length : part.bytes.length;
    })().catch((error: unknown) => error as Error);
    expect(written).toBe(0);
    expect((threadsError as Error).message).toBe((onePassError as Error).message);
  });

  it('fails on a too-long message as one pass does, with the line it starts on in the whole file', async () => {
    const file = path.join(scratch, 'too-long.txt');
    const line = (i: number) => `14/03/2024, 09:${String(i % 60).padStart(2, '0')} - A: message ${i}\n`;
    const long = `14/03/2024, 10:00 - B: a long one\n${`${'x'.repeat(999)}\n`.repeat(1100)}`;
    writeFileSync(file, Array.from({ length: 3000 }, (_, i) => line(i)).join('') + long + Array.from({ length: 100 }, (_, i) => line(i)).join(''));
    const source = await openExportSource(file);
    const onePassError = await (async () => {
      for await (const text of readExportNdjson(source)) void text;
    })().catch((error: unknown) => error as Error);
    expect(onePassError).toBeInstanceOf(Error);
    expect((onePassError as Error).message).toMatch(/message at line 3001 runs past/);
    const threadsError = await collect(parallelExportNdjson(file, source.size, { threads: 2, threadUrl, pieceBytes: 64 << 10 }, () => profileExport(source))).catch((error: unknown) => error as Error);
    expect(threadsError).toBeInstanceOf(Error);
    expect((threadsError as Error).message).toBe((onePassError as Error).message);
  });
});
