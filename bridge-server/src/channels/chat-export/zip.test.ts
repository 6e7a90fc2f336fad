import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BadInputError } from '../../core/errors.js';
import { readExportMessages } from './read.js';
import { openExportSource } from './source.js';
import { writeZip } from './zip-builder.js';

const corpus = fileURLToPath(new URL('../../../../tests/fixtures/exports/', import.meta.url));
const scratch = mkdtempSync(path.join(tmpdir(), 'wab-export-zip-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const chat = readFileSync(path.join(corpus, 'ios-24h-uk-bracketed.txt'));
const photo = Buffer.from('\xff\xd8\xff\xe0 not really a jpeg, but bytes all the same', 'latin1');
let counter = 0;
const zipOf = async (items: Parameters<typeof writeZip>[1]) => {
  const file = path.join(scratch, `z${(counter += 1)}.zip`);
  await writeZip(file, items);
  return file;
};

/** Replaces every occurrence of `from` with `to` (same length) in the file: names in both headers. */
function patch(file: string, from: string, to: string): void {
  const bytes = readFileSync(file);
  const a = Buffer.from(from);
  for (let i = bytes.indexOf(a); i !== -1; i = bytes.indexOf(a, i + 1)) Buffer.from(to).copy(bytes, i);
  writeFileSync(file, bytes);
}

async function readAll(file: string) {
  const source = await openExportSource(file);
  try {
    const out = [];
    for await (const batch of readExportMessages(source)) out.push(...batch);
    return { out, media: source.mediaNames(), photo: await source.readMedia('00000012-PHOTO-2024-03-14-09-13-10.jpg') };
  } finally {
    await source.close();
  }
}

async function refusal(file: string): Promise<string> {
  const error = await readAll(file).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BadInputError);
  const message = (error as BadInputError).message;
  expect(message).not.toContain('\n');
  return message;
}

describe('chat-export zips', () => {
  it('reads an iOS zip: _chat.txt and the media it names', async () => {
    const file = await zipOf([
      { name: '_chat.txt', bytes: chat },
      { name: '00000012-PHOTO-2024-03-14-09-13-10.jpg', bytes: photo, compress: false },
    ]);
    const { out, media, photo: read } = await readAll(file);
    expect(out).toHaveLength(7);
    expect(media).toEqual(['00000012-PHOTO-2024-03-14-09-13-10.jpg']);
    expect(read).toEqual(photo);
  });

  it('finds an Android "WhatsApp Chat with ….txt" among media', async () => {
    const file = await zipOf([
      { name: 'IMG-20240314-WA0003.jpg', bytes: photo },
      { name: 'WhatsApp Chat with Jane Smith.txt', bytes: readFileSync(path.join(corpus, 'android-12h-us.txt')) },
    ]);
    expect((await readAll(file)).out).toHaveLength(5);
  });

  it('refuses a zip bomb by its ratio before inflating it', async () => {
    const file = await zipOf([
      { name: '_chat.txt', bytes: chat },
      { name: 'VID-20240314-WA0001.mp4', bytes: Buffer.alloc(64 * 1024 * 1024) },
    ]);
    expect(await refusal(file)).toMatch(/VID-20240314-WA0001\.mp4.* expands \d+:1, which only a zip bomb does/);
  });

  it('refuses an entry whose real size is larger than it declares', async () => {
    const big = Buffer.from(`${chat.toString('utf8')}${'[14/03/2024, 09:20:00] Jane Smith: more text\n'.repeat(2000)}`);
    const file = await zipOf([{ name: '_chat.txt', bytes: big }]);
    // Central directory record: uncompressed size at offset 24; say 1000 bytes.
    const bytes = readFileSync(file);
    const central = bytes.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    bytes.writeUInt32LE(1000, central + 24);
    writeFileSync(file, bytes);
    expect(await refusal(file)).toMatch(/real size differs from the size it declares/);
  });

  it.each([
    ['a parent-directory name', 'aa/evil.jpg', '../evil.jpg'],
    ['an absolute name', 'xetc/evil.jpg', '/etc/evil.jpg'],
    ['a backslash name', 'aa/evil.jpg', '..\\evil.jpg'],
  ])('refuses %s', async (_what, safe, hostile) => {
    const file = await zipOf([
      { name: '_chat.txt', bytes: chat },
      { name: safe, bytes: photo },
    ]);
    patch(file, safe, hostile);
    expect(await refusal(file)).toMatch(/points outside the archive/);
  });

  it('refuses a symbolic link', async () => {
    const file = await zipOf([
      { name: '_chat.txt', bytes: chat },
      { name: '00000012-PHOTO-2024-03-14-09-13-10.jpg', bytes: Buffer.from('/etc/passwd'), mode: 0o120777 },
    ]);
    expect(await refusal(file)).toMatch(/is a symbolic link/);
  });

  it('refuses more entries than an export holds', async () => {
    const items = Array.from({ length: 20_001 }, (_, i) => ({ name: `f${i}.jpg`, bytes: Buffer.alloc(0), compress: false }));
    const file = await zipOf([{ name: '_chat.txt', bytes: chat }, ...items]);
    expect(await refusal(file)).toMatch(/20002 entries, more than the 20000/);
  });

  it('refuses a zip with no chat text, or with several unnamed ones', async () => {
    expect(await refusal(await zipOf([{ name: 'photo.jpg', bytes: photo }]))).toMatch(/no chat text/);
    expect(
      await refusal(
        await zipOf([
          { name: 'a.txt', bytes: chat },
          { name: 'b.txt', bytes: chat },
        ]),
      ),
    ).toMatch(/several \.txt files/);
  });

  it('refuses a damaged zip and a zip whose text is no export', async () => {
    const damaged = path.join(scratch, 'damaged.zip');
    writeFileSync(damaged, Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(200, 7)]));
    expect(await refusal(damaged)).toMatch(/not a zip file, or a damaged one/);
    expect(await refusal(await zipOf([{ name: '_chat.txt', bytes: Buffer.from('just some notes\nnothing else\n') }]))).toMatch(/not a WhatsApp chat export/);
  });
});
