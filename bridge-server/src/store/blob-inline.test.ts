import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError } from '../core/errors.js';
import { blobCipher, UnreadableBlobError } from './blob-cipher.js';
import { InlineBlobStore } from './blob-inline.js';
import { FileMediaStore } from './blob-store.js';
import { openSqlite, type OpenedDatabase } from './db.js';
import { prepareRelay } from './relays.js';

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const keys = { activeId: '0011223344556677', keys: [['0011223344556677', randomBytes(32)]] as Array<[string, Uint8Array]> };

describe('blobs kept in their rows, in front of the blob store', () => {
  let dir: string;
  let opened: OpenedDatabase;
  let files: FileMediaStore;
  let blobs: InlineBlobStore;
  const cipher = blobCipher(keys);

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wab-inline-'));
    opened = openSqlite(path.join(dir, 'store.sqlite'));
    files = new FileMediaStore(path.join(dir, 'blobs'), cipher);
    blobs = new InlineBlobStore(opened.db, files, cipher);
    await opened.db.insertInto('conversations').values(conversationRow()).execute();
  });
  afterEach(async () => {
    await opened.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A relayed mail recorded as prepared with its sealed bytes in the blob's row, as the relay does. */
  async function keepRelayed(raw: Buffer, mailMessageId: string): Promise<string> {
    const hash = sha(raw);
    await prepareRelay(opened.db, { conversationId: 1, eventId: null, mailMessageId, rawSha256: hash, rawSize: raw.length, preparedAt: 1, inline: blobs.forRow(raw, hash) });
    return hash;
  }

  it('reads a blob kept in its row, opened with the data keys, and one in the store alike', async () => {
    const mail = Buffer.from('Message-ID: <kept@wa.firm.test>\r\n\r\nThe settlement figure\r\n');
    const kept = await keepRelayed(mail, 'kept@wa.firm.test');
    const media = randomBytes(5000);
    const stored = await blobs.put(media);

    expect((await blobs.get(kept)).equals(mail)).toBe(true);
    expect((await blobs.get(stored)).equals(media)).toBe(true);
    expect(await blobs.has(kept)).toBe(true);
    expect(await blobs.has(stored)).toBe(true);
    expect(await blobs.keeps(kept)).toBe(true);
    expect(await blobs.keeps(stored)).toBe(false);
    // put() goes to the store only; the row holds the kept one, sealed, and no file was made for it.
    expect(await files.has(kept)).toBe(false);
    const row = await opened.db.selectFrom('blobs').select(['content', 'size']).where('sha256', '=', kept).executeTakeFirstOrThrow();
    expect(row.size).toBe(mail.length);
    expect(row.content!.includes(Buffer.from('settlement'))).toBe(false);
    // As stored, for backups: the sealed bytes of either.
    expect((await blobs.readStored(kept)).equals(row.content!)).toBe(true);
    expect((await blobs.readStored(stored)).subarray(0, 4).toString()).toBe('WAB2');
  });

  it('names a kept blob whose bytes were changed, and one that is nowhere', async () => {
    const kept = await keepRelayed(Buffer.from('Message-ID: <changed@wa.firm.test>\r\n\r\nhello\r\n'), 'changed@wa.firm.test');
    const row = await opened.db.selectFrom('blobs').select('content').where('sha256', '=', kept).executeTakeFirstOrThrow();
    const changed = Buffer.from(row.content!);
    changed[changed.length - 20] = changed[changed.length - 20]! ^ 1;
    await opened.db.updateTable('blobs').set({ content: changed }).where('sha256', '=', kept).execute();
    await expect(blobs.get(kept)).rejects.toBeInstanceOf(UnreadableBlobError);

    const absent = sha(Buffer.from('never stored'));
    await expect(blobs.get(absent)).rejects.toBeInstanceOf(NotFoundError);
    expect(await blobs.has(absent)).toBe(false);
    await expect(blobs.get('../../etc/passwd')).rejects.toThrow('not a sha256 hex digest');
  });

  it('keeps plain bytes in the row when blobs are not sealed', async () => {
    const plain = new InlineBlobStore(opened.db, new FileMediaStore(path.join(dir, 'plain')));
    const mail = Buffer.from('Message-ID: <plain@wa.firm.test>\r\n\r\nhello\r\n');
    const hash = sha(mail);
    expect(plain.forRow(mail, hash).equals(mail)).toBe(true);
    await prepareRelay(opened.db, { conversationId: 1, eventId: null, mailMessageId: 'plain@wa.firm.test', rawSha256: hash, rawSize: mail.length, preparedAt: 1, inline: plain.forRow(mail, hash) });
    expect((await plain.get(hash)).equals(mail)).toBe(true);
  });
});

function conversationRow() {
  return {
    id: 1,
    tenant: 'firm',
    channel: 'cloud_api',
    chat_key: 'key',
    chat_token: 'aaaaaaaaaaaaaaaaaaaaaaaaaa',
    business_id: 'b',
    business_display_number: null,
    client_wa_id: '447700900000',
    client_user_id: null,
    client_name: null,
    subject: 'WhatsApp chat',
    opened_at: 1,
    created_at: 1,
  };
}
