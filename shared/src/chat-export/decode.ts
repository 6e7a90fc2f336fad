import { ChatExportError } from './errors.js';

const SNIFF_CHARS = 65536;

/**
 * Bytes to text in chunks, in the browser and in Node alike (TextDecoder only). UTF-8 with or
 * without BOM (PROTOCOLS.md 5.1), and UTF-16 when a UTF-16 BOM says so. Refuses binary data: a NUL
 * never occurs in an export, and many undecodable bytes near the start mean it is no text file.
 */
export class ExportDecoder {
  private decoder: InstanceType<typeof TextDecoder> | undefined;
  private sniffed = 0;
  private replacements = 0;

  decode(bytes: Uint8Array, last = false): string {
    if (!this.decoder) this.decoder = new TextDecoder(encodingOf(bytes));
    const text = this.decoder.decode(bytes, { stream: !last });
    this.check(text);
    return text;
  }

  end(): string {
    const text = this.decoder ? this.decoder.decode() : '';
    this.check(text);
    return text;
  }

  private check(text: string): void {
    if (text.indexOf('\u0000') !== -1) throw new ChatExportError('binary_data', 'not a WhatsApp chat export: the file holds binary data (NUL bytes)');
    if (this.sniffed >= SNIFF_CHARS) return;
    const part = text.slice(0, SNIFF_CHARS - this.sniffed);
    this.sniffed += part.length;
    for (let i = part.indexOf('\ufffd'); i !== -1; i = part.indexOf('\ufffd', i + 1)) this.replacements += 1;
    if (this.replacements > 16 && this.replacements * 50 > this.sniffed) {
      throw new ChatExportError('binary_data', 'not a WhatsApp chat export: the file is not UTF-8 text');
    }
  }
}

function encodingOf(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  return 'utf-8';
}
