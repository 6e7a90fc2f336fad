import { describe, expect, it } from 'vitest';
import { ThreadedDocumentReader } from './document-reader.js';
import { DOCUMENT_TEXT_LIMITS, extractDocumentText } from './document-text.js';
import { docxOf, pdfOf } from './test-documents.js';

describe('extractDocumentText', () => {
  it('gives the text of every page of a PDF, white space made single spaces', async () => {
    const pdf = await pdfOf(['Clause 4 of the tenancy agreement: the deposit is £1,200.', 'Schedule 2   lists the   inventory.']);
    expect(await extractDocumentText(pdf, 'pdf')).toEqual({ state: 'indexed', text: 'Clause 4 of the tenancy agreement: the deposit is £1,200. Schedule 2 lists the inventory.' });
  });

  it('gives the text of a Word document, paragraph by paragraph', async () => {
    const docx = await docxOf(['Witness statement of Ann Example', 'I saw the van at 6 o\u2019clock & called the police.']);
    expect(await extractDocumentText(docx, 'docx')).toEqual({ state: 'indexed', text: 'Witness statement of Ann Example I saw the van at 6 o\u2019clock & called the police.' });
  });

  it('gives plain text and CSV as they are, NULs made spaces', async () => {
    expect(await extractDocumentText(Buffer.from('date,amount\n2026-11-01,£40\u0000paid'), 'text')).toEqual({ state: 'indexed', text: 'date,amount 2026-11-01,£40 paid' });
  });

  it('keeps at most the set number of characters and reads at most the set number of pages', async () => {
    const pdf = await pdfOf(['first page words', 'second page words', 'third page words']);
    expect(await extractDocumentText(pdf, 'pdf', { ...DOCUMENT_TEXT_LIMITS, pages: 2 })).toEqual({ state: 'indexed', text: 'first page words second page words' });
    expect(await extractDocumentText(Buffer.from('abcdefghij'), 'text', { ...DOCUMENT_TEXT_LIMITS, characters: 4 })).toEqual({ state: 'indexed', text: 'abcd' });
  });

  it('says why it gives no text: too large, not what it claims to be, empty, or unpacking to too much', async () => {
    expect(await extractDocumentText(Buffer.alloc(2000), 'text', { ...DOCUMENT_TEXT_LIMITS, bytes: 1000 })).toEqual({ state: 'none', reason: 'larger than 1000 bytes' });
    const notPdf = await extractDocumentText(Buffer.from('%PDF-1.7 this is not really a PDF'), 'pdf');
    expect(notPdf.state).toBe('none');
    expect((notPdf as { reason: string }).reason).toMatch(/^not readable as PDF \(/);
    const notDocx = await extractDocumentText(Buffer.from('PK not a zip'), 'docx');
    expect(notDocx).toMatchObject({ state: 'none', reason: expect.stringMatching(/^not a Word document \(/) });
    expect(await extractDocumentText(await pdfOf(['']), 'pdf')).toEqual({ state: 'none', reason: 'no text in it (a scan, say)' });
    // A few kilobytes that unpack to 20 MB: refused from the sizes the zip gives, before unpacking.
    const bomb = await docxOf(['small'], [{ name: 'word/media/padding.bin', bytes: Buffer.alloc(20 * 1024 * 1024) }]);
    expect(bomb.length).toBeLessThan(100_000);
    expect(await extractDocumentText(bomb, 'docx', { ...DOCUMENT_TEXT_LIMITS, unpackedBytes: 10 * 1024 * 1024 })).toEqual({ state: 'none', reason: `unpacks to more than ${10 * 1024 * 1024} bytes` });
  });
});

describe('ThreadedDocumentReader', () => {
  it('reads on its own thread, gives up on a document that takes too long, and reads the next on a new thread', async () => {
    const pdf = await pdfOf(['Completion statement for 12 Mill Lane']);
    const hasty = new ThreadedDocumentReader({ timeoutMs: 1 });
    try {
      expect(await hasty.read(pdf, 'pdf')).toEqual({ state: 'none', reason: 'not read within 0.001 s' });
    } finally {
      await hasty.close();
    }
    const reader = new ThreadedDocumentReader();
    try {
      expect(await reader.read(pdf, 'pdf')).toEqual({ state: 'indexed', text: 'Completion statement for 12 Mill Lane' });
      const [a, b] = await Promise.all([reader.read(Buffer.from('one'), 'text'), reader.read(await docxOf(['two']), 'docx')]);
      expect([a, b]).toEqual([
        { state: 'indexed', text: 'one' },
        { state: 'indexed', text: 'two' },
      ]);
    } finally {
      await reader.close();
    }
  });

  it('ends a thread that needs more memory than it may have, and says so', async () => {
    const small = new ThreadedDocumentReader({ memoryMb: 16 });
    try {
      // 200,000 paragraphs: a small file whose document tree takes far more than the thread's 16 MB.
      const result = await small.read(await docxOf(Array.from({ length: 200_000 }, (_, i) => `paragraph ${i}`)), 'docx');
      expect(result).toEqual({ state: 'none', reason: 'needed more than 16 MB to read' });
      expect(await small.read(Buffer.from('after it, a new thread'), 'text')).toEqual({ state: 'indexed', text: 'after it, a new thread' });
    } finally {
      await small.close();
    }
  });
});
