import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';

/**
 * A large file of a bundle (a conversation's events, the HTML transcript), written to disk as it
 * is made and hashed on the way, so that it is never whole in memory: for 100,000 messages the
 * events alone are some 100 MB, held before as lines, as their join and as bytes. Text is
 * gathered into writes of about 1 MB.
 */
export class ScratchFile {
  private readonly hash = createHash('sha256');
  private readonly out: WriteStream;
  private size = 0;
  private pending: string[] = [];
  private pendingLength = 0;
  private failure: Error | undefined;

  constructor(readonly file: string) {
    this.out = createWriteStream(file, { flags: 'wx' });
    // A failure to open or write (a full disk) fails the next write or close, never the process.
    this.out.on('error', (error) => (this.failure ??= error));
  }

  async write(text: string): Promise<void> {
    this.pending.push(text);
    this.pendingLength += text.length;
    if (this.pendingLength >= 1 << 20) await this.flush();
  }

  /** Writes what is pending and closes the file; its SHA-256 (hex) and size in bytes. */
  async close(): Promise<{ sha256: string; size: number }> {
    await this.flush();
    this.out.end();
    await finished(this.out);
    if (this.failure) throw this.failure;
    return { sha256: this.hash.digest('hex'), size: this.size };
  }

  /** Closes the file after a failure, whatever it holds. */
  abort(): void {
    this.out.destroy();
  }

  private async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.pending.length === 0) return;
    const bytes = Buffer.from(this.pending.join(''), 'utf8');
    this.pending = [];
    this.pendingLength = 0;
    this.hash.update(bytes);
    this.size += bytes.length;
    // Each megabyte is on its way to the disk before the next is made.
    await new Promise<void>((resolve, reject) => this.out.write(bytes, (error) => (error ? reject(this.failure ?? error) : resolve())));
  }
}
