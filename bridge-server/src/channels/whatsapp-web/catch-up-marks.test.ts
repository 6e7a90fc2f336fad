import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JsonFileMarks } from './catch-up-marks.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'wa-marks-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('JsonFileMarks', () => {
  it('keeps marks per number and chat across restarts, moving only forward', async () => {
    const marks = JsonFileMarks.inDataDir(dir);
    expect(await marks.get('442071234567', '447700900123@c.us')).toBeUndefined();
    await marks.advance('442071234567', '447700900123@c.us', 1763901060000);
    await marks.advance('442071234567', '447700900123@c.us', 1763901000000);
    await marks.advance('447911123456', '447700900123@c.us', 5);

    const reopened = JsonFileMarks.inDataDir(dir);
    expect(await reopened.get('442071234567', '447700900123@c.us')).toBe(1763901060000);
    expect(await reopened.get('447911123456', '447700900123@c.us')).toBe(5);
    expect(JSON.parse(await readFile(path.join(dir, 'whatsapp-web', 'catch-up.json'), 'utf8'))).toMatchObject({ version: 1 });
  });

  it('remembers when a number was first linked', async () => {
    const marks = JsonFileMarks.inDataDir(dir);
    expect(await marks.linkedAt('442071234567', 1000)).toBe(1000);
    expect(await JsonFileMarks.inDataDir(dir).linkedAt('442071234567', 2000)).toBe(1000);
  });

  it('refuses a damaged file rather than guessing', async () => {
    const file = path.join(dir, 'catch-up.json');
    await writeFile(file, '{"version":1,"numbers":{"4420":', 'utf8');
    await expect(new JsonFileMarks(file).get('4420', 'x@c.us')).rejects.toThrow(/not a wa-bridge catch-up marks file/);
  });
});
