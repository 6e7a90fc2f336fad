/**
 * RFC 2047 encoded words in unstructured header fields. mailparser decodes Subject, but leaves
 * the fields it does not know (Thread-Topic, X-WhatsApp-From, ...) as written, and the bridge
 * encodes every non-ASCII value. The page shows them as a mail client would.
 */

const encodedWord = /=\?([^?\s*]+)(?:\*[^?\s]*)?\?([BbQq])\?([^?\s]*)\?=/g;
// RFC 2047 6.2: white space between two adjacent encoded words is not displayed.
const betweenWords = /(\?=)\s+(?==\?)/g;

export function decodeEncodedWords(value: string): string {
  if (!value.includes('=?')) return value;
  const joined = value.replace(betweenWords, '$1');
  const words = [...joined.matchAll(encodedWord)];
  if (words.length === 0) return value;
  let out = '';
  let cursor = 0;
  // Consecutive words of one charset are decoded as one byte run: an encoder may split a
  // multi-byte character across two words.
  let run: { charset: string; bytes: Buffer[] } | undefined;
  const flush = () => {
    if (run) out += decodeBytes(Buffer.concat(run.bytes), run.charset);
    run = undefined;
  };
  for (const word of words) {
    const [whole, charset = '', encoding = '', text = ''] = word;
    const start = word.index;
    if (start > cursor) {
      flush();
      out += joined.slice(cursor, start);
    }
    const bytes = encoding.toUpperCase() === 'B' ? Buffer.from(text, 'base64') : decodeQ(text);
    const lower = charset.toLowerCase();
    if (run && run.charset !== lower) flush();
    run ??= { charset: lower, bytes: [] };
    run.bytes.push(bytes);
    cursor = start + whole.length;
  }
  flush();
  return out + joined.slice(cursor);
}

function decodeQ(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    const hex = text.slice(i + 1, i + 3);
    if (char === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(char === '_' ? 0x20 : char.charCodeAt(0) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

function decodeBytes(bytes: Buffer, charset: string): string {
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    // An unknown charset label: show the bytes rather than nothing.
    return bytes.toString('latin1');
  }
}
