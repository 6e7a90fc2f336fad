import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { writeZip } from '../channels/chat-export/zip-builder.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const corpus = path.join(root, 'tests/fixtures/exports');
const scratch = mkdtempSync(path.join(tmpdir(), 'wab-parse-export-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The real command, as other tools call it. */
function parseExport(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bridge-server/bin/wa-bridge.js', 'parse-export', ...args], { cwd: root, encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

// Each run loads the whole CLI in a new Node process, so the runs happen at once.
describe.concurrent('wa-bridge parse-export', () => {
  it('prints the expected NDJSON for a .txt and exits 0', async () => {
    const run = await parseExport(path.join(corpus, 'android-12h-us.txt'));
    expect(run).toEqual({ code: 0, stdout: readFileSync(path.join(corpus, 'android-12h-us.ndjson'), 'utf8'), stderr: '' });
  });

  it('prints the same for the text inside a zip', async () => {
    const zip = path.join(scratch, 'WhatsApp Chat - Jane Smith.zip');
    await writeZip(zip, [
      { name: '_chat.txt', bytes: readFileSync(path.join(corpus, 'ios-24h-uk-bracketed.txt')) },
      { name: '00000012-PHOTO-2024-03-14-09-13-10.jpg', bytes: Buffer.from('jpeg bytes') },
    ]);
    const run = await parseExport(zip);
    expect(run).toEqual({ code: 0, stdout: readFileSync(path.join(corpus, 'ios-24h-uk-bracketed.ndjson'), 'utf8'), stderr: '' });
  });

  it('follows --date-order', async () => {
    const run = await parseExport('--date-order', 'dmy', path.join(corpus, 'ambiguous-order-by-decrease.txt'));
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { date: string }).date)).toEqual([
      '2024-10-01T09:00:00',
      '2024-11-01T09:00:00',
      '2024-01-02T09:00:00',
      '2024-02-02T09:00:00',
    ]);
  });

  it('exits 2 with one line and prints nothing for binary junk', async () => {
    const junk = path.join(scratch, 'junk.txt');
    writeFileSync(junk, Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 256)));
    const run = await parseExport(junk);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^wa-bridge: .*junk\.txt: not a WhatsApp chat export: .*\n$/);
  });

  it('exits 2 with one line for a bad --date-order', async () => {
    const bad = await parseExport('--date-order', 'ddmm', path.join(corpus, 'android-fi-klo.txt'));
    expect(bad).toEqual({ code: 2, stdout: '', stderr: 'wa-bridge: --date-order: expected dmy, mdy or ymd, got "ddmm"\n' });
  });
});
