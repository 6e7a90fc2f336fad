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
    execFile(process.execPath, ['bridge-server/bin/wa-bridge.js', 'parse-export', ...args], { cwd: root, encoding: 'utf8', maxBuffer: 256 << 20 }, (error, stdout, stderr) => {
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

  it('parses a large text export on several threads with the output of one stream', async () => {
    // Over 8 MiB, where threads start: fixtures with names holding ": ", emoji, CRLF and dated
    // continuation lines, repeated.
    const mixed = ['names-colon-emoji.txt', 'crlf-bom-windows.txt', 'continuation-looks-like-date.txt'].map((n) => readFileSync(path.join(corpus, n), 'utf8').replace(/^\ufeff/, ''));
    const big = path.join(scratch, 'WhatsApp Chat with Big Group.txt');
    const text = mixed.join('');
    writeFileSync(big, text.repeat(Math.ceil((9 << 20) / Buffer.byteLength(text))));
    const [threads, one] = await Promise.all([parseExport('--threads', '2', big), parseExport('--threads', '1', big)]);
    expect(threads.code).toBe(0);
    expect(threads.stderr).toBe('');
    expect(one.stdout.split('\n').length).toBeGreaterThan(100_000);
    expect(threads.stdout === one.stdout).toBe(true);
  });

  it('exits 2 with one line for a bad --threads', async () => {
    const bad = await parseExport('--threads', '0', path.join(corpus, 'android-fi-klo.txt'));
    expect(bad).toEqual({ code: 2, stdout: '', stderr: 'wa-bridge: --threads: expected a whole number from 1 to 64, got "0"\n' });
  });
});
