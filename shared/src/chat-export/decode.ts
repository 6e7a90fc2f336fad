import { ChatExportError } from './errors.js';

const SNIFF_CHARS = 65536;

/**
 * Bytes to text in chunks, in the browser and in Node alike (TextDecoder only). UTF-8 with or
 * without BOM (PROTOCOLS.md 5.1), and UTF-16 when a UTF-16 BOM says so. Refuses binary data: a NUL
 * never occurs in an export, and many undecodable bytes near the start mean it is no text file.
 */
export class ExportDecoder {
  private decoder: InstanceType<typeof TextDecoder> | undefined;
  private utf8 = false;
  /** True while the decoder may hold the start of a character or has not yet passed the BOM. */
  private unsettled = true;
  private sniffed = 0;
  private replacements = 0;

  /**
   * `ascii`, when the platform has one, turns bytes into text if they are all ASCII and returns
   * undefined otherwise (in Node: buffer.isAscii and a latin1 read, several times faster than
   * TextDecoder). ASCII is the same in UTF-8, so the text is the same either way.
   */
  constructor(
    private readonly ascii?: (bytes: Uint8Array) => string | undefined,
    /**
     * `continuation`: the bytes start at a line of a UTF-8 file, not at its start. There is no BOM
     * to look for (a U+FEFF there is text), and the start of the file was checked for text.
     */
    private readonly options: { continuation?: boolean } = {},
  ) {
    if (options.continuation) this.sniffed = SNIFF_CHARS;
  }

  decode(bytes: Uint8Array, last = false): string {
    if (!this.decoder) {
      const encoding = this.options.continuation ? 'utf-8' : encodingOf(bytes);
      this.decoder = new TextDecoder(encoding, { ignoreBOM: this.options.continuation === true });
      this.utf8 = encoding === 'utf-8';
    }
    if (this.utf8 && !this.unsettled && !last && this.ascii) {
      const text = this.ascii(bytes);
      if (text !== undefined) {
        this.check(text);
        return text;
      }
    }
    const text = this.decoder.decode(bytes, { stream: !last });
    // The fast path may take over once the BOM is behind (a character has come out) and the
    // decoder holds no partial character, which the end of these bytes tells.
    this.unsettled = text.length === 0 || !endsOnCharacter(bytes);
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

/** True when UTF-8 bytes end with a complete character (false when unsure: short or damaged). */
function endsOnCharacter(bytes: Uint8Array): boolean {
  const n = bytes.length;
  if (n < 4) return false;
  for (let i = n - 1; i >= n - 4; i -= 1) {
    const b = bytes[i]!;
    if (b < 0x80) return i === n - 1;
    if (b >= 0xc0) return i + (b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2) === n;
  }
  return false;
}

/** The encoding of an export from its first bytes: UTF-16 when a UTF-16 BOM says so, else UTF-8. */
export function encodingOf(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  return 'utf-8';
}
