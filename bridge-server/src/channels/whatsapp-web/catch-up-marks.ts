import { access, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

/**
 * Per-chat high-water marks for the catch-up after a reconnect (whatsapp-web.js issue #589:
 * messages that arrive while the bridge is offline never emit message_create). A mark is the
 * WhatsApp time (ms) up to which everything of the chat has been handed to ingest; it only
 * moves forward, and only after ingest resolved. Marks are kept per linked number, so linking
 * another number starts afresh.
 */
export interface CatchUpMarks {
  /** The chat's mark, or undefined when nothing of the chat was ingested yet. */
  get(businessId: string, chatId: string): Promise<number | undefined>;
  /** Moves the chat's mark to `mark` if that is later; never back. */
  advance(businessId: string, chatId: string, mark: number): Promise<void>;
  /**
   * When this number was first seen ready; `now` is stored on the first call. Chats without a
   * mark are caught up from there, so linking a phone does not import its whole history (the
   * chat-export import is for that).
   */
  linkedAt(businessId: string, now: number): Promise<number>;
}

const fileSchema = z.object({
  version: z.literal(1),
  numbers: z.record(z.string(), z.object({ linkedAt: z.number().int().nonnegative(), chats: z.record(z.string(), z.number().int().nonnegative()) })),
});
type MarksFile = z.infer<typeof fileSchema>;

/**
 * Marks in one small JSON file, by default `<dataDir>/whatsapp-web/catch-up.json` beside the
 * LocalAuth profile. Writes are serialized and atomic (temporary file, then rename), so a crash
 * leaves the old or the new file, never half of one. One process owns the file, as it owns the
 * session directory.
 */
export class JsonFileMarks implements CatchUpMarks {
  private data: MarksFile | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(readonly file: string) {}

  static inDataDir(dataDir: string): JsonFileMarks {
    return new JsonFileMarks(path.join(dataDir, 'whatsapp-web', 'catch-up.json'));
  }

  async get(businessId: string, chatId: string): Promise<number | undefined> {
    return (await this.load()).numbers[businessId]?.chats[chatId];
  }

  async advance(businessId: string, chatId: string, mark: number): Promise<void> {
    const data = await this.load();
    const number = (data.numbers[businessId] ??= { linkedAt: mark, chats: {} });
    const current = number.chats[chatId];
    if (current !== undefined && current >= mark) return;
    number.chats[chatId] = Math.round(mark);
    await this.save();
  }

  async linkedAt(businessId: string, now: number): Promise<number> {
    const data = await this.load();
    const existing = data.numbers[businessId];
    if (existing) return existing.linkedAt;
    data.numbers[businessId] = { linkedAt: Math.round(now), chats: {} };
    await this.save();
    return Math.round(now);
  }

  /** Every number's marks in the file, as stored. */
  async numbers(): Promise<MarksFile['numbers']> {
    return (await this.load()).numbers;
  }

  private async load(): Promise<MarksFile> {
    if (this.data) return this.data;
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.data = { version: 1, numbers: {} };
      return this.data;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const parsed = fileSchema.safeParse(json);
    if (!parsed.success) {
      // Guessing would mean skipping or re-importing messages: a person decides.
      throw new Error(`${this.file} is not a wa-bridge catch-up marks file; fix or remove it (removing it catches up from now on).`);
    }
    this.data = parsed.data;
    return this.data;
  }

  private save(): Promise<void> {
    const snapshot = JSON.stringify(this.data, null, 2);
    const write = async (): Promise<void> => {
      await mkdir(path.dirname(this.file), { recursive: true });
      const temporary = `${this.file}.${process.pid}.tmp`;
      await writeFile(temporary, `${snapshot}\n`, 'utf8');
      await rename(temporary, this.file);
    };
    this.writing = this.writing.then(write, write);
    return this.writing;
  }
}

/**
 * Moves the marks file of a data dir into the shared store, once: the file is renamed afterwards
 * (`.imported`), and the store's marks only ever move forward, so a repeat changes nothing.
 * Returns how many chat marks were read.
 */
export async function adoptMarksFile(dataDir: string, target: { importFrom(numbers: MarksFile['numbers']): Promise<number> }): Promise<number> {
  const file = JsonFileMarks.inDataDir(dataDir);
  let numbers: MarksFile['numbers'];
  try {
    await access(file.file);
    numbers = await file.numbers();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  const count = await target.importFrom(numbers);
  await rename(file.file, `${file.file}.imported`);
  return count;
}

/** Marks kept in memory only: for tests and for a bridge that must not write the data dir. */
export class MemoryMarks implements CatchUpMarks {
  readonly chats = new Map<string, number>();
  private readonly linked = new Map<string, number>();

  async get(businessId: string, chatId: string): Promise<number | undefined> {
    return this.chats.get(`${businessId}/${chatId}`);
  }

  async advance(businessId: string, chatId: string, mark: number): Promise<void> {
    const key = `${businessId}/${chatId}`;
    this.chats.set(key, Math.max(this.chats.get(key) ?? 0, Math.round(mark)));
  }

  async linkedAt(businessId: string, now: number): Promise<number> {
    if (!this.linked.has(businessId)) this.linked.set(businessId, Math.round(now));
    return this.linked.get(businessId) ?? now;
  }
}
