import { createWriteStream } from 'node:fs';
import yazl from 'yazl';

export interface ZipItem {
  name: string;
  bytes: Buffer;
  mode?: number;
  compress?: boolean;
}

/**
 * Writes a zip as WhatsApp and hostile senders would (tests and benchmarks): yazl, one entry per
 * item, deflated unless told otherwise.
 */
export async function writeZip(file: string, items: ZipItem[]): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const item of items) zip.addBuffer(item.bytes, item.name, { compress: item.compress ?? true, ...(item.mode !== undefined ? { mode: item.mode } : {}) });
  zip.end();
  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(file);
    out.on('close', () => resolve());
    out.on('error', reject);
    zip.outputStream.pipe(out);
  });
}
