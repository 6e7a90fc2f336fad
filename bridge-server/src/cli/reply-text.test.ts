import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readReplyFile } from './reply-text.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const corpus = path.join(root, 'tests/fixtures/replies');
const scratch = mkdtempSync(path.join(tmpdir(), 'wab-reply-text-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The real command, as other tools call it: `node bridge-server/bin/wa-bridge.js reply-text FILE`. */
function replyText(file: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bridge-server/bin/wa-bridge.js', 'reply-text', file], { cwd: root, encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

// Each run starts a Node process that loads the whole CLI (about 2 s of CPU), so the few runs
// happen at once and the remaining checks call the command's file reader in-process.
describe.concurrent('wa-bridge reply-text', () => {
  it.each(['outlook-desktop-en-word-html-multipart.eml', 'forward-gmail-plain-with-note.txt'])(
    'prints exactly what %s expects, and exits 0',
    async (name) => {
      const run = await replyText(path.join(corpus, name));
      expect(run).toEqual({ code: 0, stdout: readFileSync(path.join(corpus, name.replace(/\.(?:eml|txt)$/u, '.expected.txt')), 'utf8'), stderr: '' });
    },
  );

  it('exits 2 with one line on stderr for a missing file', async () => {
    const missing = path.join(scratch, 'no-such-reply.eml');
    const run = await replyText(missing);
    expect(run).toEqual({ code: 2, stdout: '', stderr: `wa-bridge: cannot read ${missing}: no such file\n` });
  });

  it('refuses a file over 25 MiB before reading it, and a directory', async () => {
    const huge = path.join(scratch, 'huge.eml');
    writeFileSync(huge, '');
    truncateSync(huge, 25 * 1024 * 1024 + 1);
    await expect(readReplyFile(huge)).rejects.toMatchObject({ code: 'file_too_large', status: 400 });
    await expect(readReplyFile(scratch)).rejects.toMatchObject({ code: 'file_unreadable', message: `${scratch} is not a regular file` });
  });
});
