import { describe, expect, it } from 'vitest';
import { documentKind } from './documents.js';

describe('documentKind', () => {
  it('reads PDFs, Word .docx, plain text and CSV, by MIME type and else by file name', () => {
    expect(documentKind('application/pdf', null)).toBe('pdf');
    expect(documentKind('Application/PDF; name="x"', 'x')).toBe('pdf');
    expect(documentKind('application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'a')).toBe('docx');
    expect(documentKind('text/plain; charset=utf-8', null)).toBe('text');
    expect(documentKind('text/csv', null)).toBe('text');
    expect(documentKind('application/octet-stream', 'Lease FINAL.PDF')).toBe('pdf');
    expect(documentKind('application/octet-stream', 'notes.docx')).toBe('docx');
    expect(documentKind('application/octet-stream', 'ledger.csv')).toBe('text');
    expect(documentKind('application/msword', 'old.doc')).toBeUndefined();
    expect(documentKind('image/jpeg', 'photo.jpg')).toBeUndefined();
    expect(documentKind('application/octet-stream', null)).toBeUndefined();
  });
});
