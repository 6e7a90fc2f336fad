import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ThreadedDocumentReader } from '../../bridge-server/src/search/document-reader.js';
import type { DocumentKind } from '../../bridge-server/src/core/documents.js';
import { docxOf, pdfOf } from '../../bridge-server/src/search/test-documents.js';
import { fuzzParameters, fuzzTimeout } from './support.js';

/**
 * Damaged and made-up documents through the reader the bridge uses (its own thread, its time and
 * memory caps): each comes back as text or as the reading's own reason, never as an error, a hang
 * or a dead thread, and the reader goes on reading good documents after them.
 */

const reader = new ThreadedDocumentReader({ timeoutMs: 10_000 });
let pdf: Buffer;
let docx: Buffer;

beforeAll(async () => {
  pdf = await pdfOf(['Statement of truth: I believe the facts stated here are true.']);
  docx = await docxOf(['Without prejudice save as to costs', 'Offer of settlement']);
});
afterAll(() => reader.close());

/** A copy of `bytes` with some bytes changed, cut or repeated. */
const damaged = (of: () => Buffer) =>
  fc
    .record({
      changes: fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 40 }),
      cut: fc.option(fc.nat(), { nil: undefined }),
    })
    .map(({ changes, cut }) => {
      const bytes = Buffer.from(of());
      for (const { at, byte } of changes) bytes[at % bytes.length] = byte;
      return cut === undefined ? bytes : bytes.subarray(0, cut % bytes.length);
    });

async function readsSafely(bytes: Buffer, kind: DocumentKind): Promise<void> {
  const result = await reader.read(bytes, kind);
  expect(['indexed', 'none']).toContain(result.state);
  if (result.state === 'indexed') expect(typeof result.text).toBe('string');
  // Refused by the reading itself: not by the thread's time or memory cap, nor by the thread dying.
  else expect(result.reason).toMatch(/^(not readable as|not a Word document|unpacks to more than|no text in it)/);
}

describe('hostile documents', () => {
  const damagedKinds = [
    { what: 'PDFs', kind: 'pdf', good: () => pdf, text: 'Statement of truth: I believe the facts stated here are true.' },
    { what: 'Word documents', kind: 'docx', good: () => docx, text: 'Without prejudice save as to costs Offer of settlement' },
  ] as const;
  for (const { what, kind, good, text } of damagedKinds) {
    it(
      `damaged ${what} give text or a reason`,
      async () => {
        await fc.assert(fc.asyncProperty(damaged(good), (bytes) => readsSafely(bytes, kind)), fuzzParameters(60));
        expect(await reader.read(good(), kind)).toEqual({ state: 'indexed', text });
      },
      fuzzTimeout(120_000),
    );
  }

  it(
    'made-up bytes of every kind give text or a reason',
    async () => {
      const kinds: DocumentKind[] = ['pdf', 'docx', 'text'];
      const junk = fc.oneof(
        fc.uint8Array({ maxLength: 4096 }).map((bytes) => Buffer.from(bytes)),
        fc.uint8Array({ maxLength: 2048 }).map((bytes) => Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.from(bytes)])),
        fc.uint8Array({ maxLength: 2048 }).map((bytes) => Buffer.concat([Buffer.from('PK\u0003\u0004'), Buffer.from(bytes)])),
      );
      await fc.assert(fc.asyncProperty(junk, fc.constantFrom(...kinds), (bytes, kind) => readsSafely(bytes, kind)), fuzzParameters(90));
    },
    fuzzTimeout(120_000),
  );
});
