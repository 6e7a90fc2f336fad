/**
 * Which attachments are documents whose text is read for search (search/document-text.ts reads
 * them): PDFs, Word .docx files, plain text and CSV.
 */
export type DocumentKind = 'pdf' | 'docx' | 'text';

/** What a document gave: its text, or why none is indexed (in words for the log and the admin). */
export type DocumentText = { state: 'indexed'; text: string } | { state: 'none'; reason: string };

/**
 * The types read, by MIME type and by file name. The migration that brought document search in
 * (0018) marks the attachments stored before it by the same lists.
 */
const byMimeType: Record<string, DocumentKind> = {
  'application/pdf': 'pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'text/plain': 'text',
  'text/csv': 'text',
};
const byExtension: Record<string, DocumentKind> = { pdf: 'pdf', docx: 'docx', txt: 'text', csv: 'text' };

/** Which kind of document an attachment is, from its MIME type (parameters aside) or else its name. */
export function documentKind(mimeType: string, fileName: string | null): DocumentKind | undefined {
  const type = mimeType.split(';')[0]!.trim().toLowerCase();
  const known = byMimeType[type];
  if (known) return known;
  const extension = fileName?.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1];
  return extension === undefined ? undefined : byExtension[extension];
}
