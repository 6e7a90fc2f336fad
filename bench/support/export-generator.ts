import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

const authors = ['Jane Smith', 'Tom Baker'];
const words = 'the lease contract clause completion deposit survey mortgage signed tomorrow morning office documents please thanks received question meeting court hearing deadline'.split(' ');

/**
 * Writes a synthetic Android export (dd/mm/yyyy, HH:MM - Name: text) of `count` messages: about
 * 8% multi-line, 2% attachment lines, 0.1% system lines, some texts with ": ". Deterministic, so
 * every run parses the same bytes.
 */
export async function writeSyntheticExport(file: string, count: number): Promise<{ bytes: number; messages: number }> {
  const out = createWriteStream(file);
  let seed = 42;
  const random = () => ((seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff) / 0x7fffffff);
  const pick = <T>(list: T[]) => list[Math.floor(random() * list.length)]!;
  const sentence = (n: number) => Array.from({ length: n }, () => pick(words)).join(' ');
  let time = Date.UTC(2019, 0, 1, 8, 0);
  let bytes = 0;
  let chunk = '';
  const pad = (n: number) => String(n).padStart(2, '0');
  for (let i = 0; i < count; i += 1) {
    time += Math.floor(random() * 600) * 1000;
    const d = new Date(time);
    const header = `${pad(d.getUTCDate())}/${pad(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}, ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} - `;
    const roll = random();
    let line: string;
    if (roll < 0.001) line = `${header}Jane Smith changed the group description\n`;
    else if (roll < 0.021) line = `${header}${pick(authors)}: IMG-${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}-WA${String(i % 10000).padStart(4, '0')}.jpg (file attached)\n${sentence(4)}\n`;
    else if (roll < 0.101) line = `${header}${pick(authors)}: ${sentence(6)}\n${sentence(8)}\n${sentence(3)}\n`;
    else if (roll < 0.15) line = `${header}${pick(authors)}: Note: ${sentence(7)}\n`;
    else line = `${header}${pick(authors)}: ${sentence(3 + Math.floor(random() * 9))}\n`;
    chunk += line;
    if (chunk.length > 1 << 20) {
      bytes += Buffer.byteLength(chunk);
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  bytes += Buffer.byteLength(chunk);
  out.end(chunk);
  await once(out, 'close');
  return { bytes, messages: count };
}
