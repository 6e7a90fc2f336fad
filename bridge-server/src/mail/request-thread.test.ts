import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestThread } from './request-thread.js';

type Body = { op: 'echo'; text: string; delayMs?: number } | { op: 'fail'; text: string } | { op: 'exit' } | { op: 'bytes'; bytes: Uint8Array };
type Answer = { text: string; threadId: number } | { length: number; sum: number };
type Failure = { said: string };

/**
 * A thread of the shape the mail adapters run: echoes text (after a delay when asked, so answers
 * come back out of order), fails on request, ends itself on request, and adds up bytes it is sent.
 */
const threadScript = (requestThreadUrl: string) => `
import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))};
register();
const { threadId } = await import('node:worker_threads');
const { serveRequests } = await import(${JSON.stringify(requestThreadUrl)});
serveRequests(async (body) => {
  if (body.op === 'echo') {
    if (body.delayMs) await new Promise((resolve) => setTimeout(resolve, body.delayMs));
    return { answer: { text: body.text.toUpperCase(), threadId } };
  }
  if (body.op === 'fail') throw new Error('refused: ' + body.text);
  if (body.op === 'exit') process.exit(3);
  return { answer: { length: body.bytes.length, sum: body.bytes.reduce((a, b) => a + b, 0) } };
}, (error) => ({ said: error.message }));
`;

describe('RequestThread', () => {
  let dir: string;
  let entry: string;
  const threads: Array<RequestThread<Body, Answer, Failure>> = [];
  const open = (lost?: (cause: Error) => Error) => {
    const thread = new RequestThread<Body, Answer, Failure>({ entry, data: null, name: 'the echo', toError: (failure) => new RangeError(failure.said), ...(lost ? { lostError: lost } : {}) });
    threads.push(thread);
    return thread;
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wab-request-thread-'));
    entry = path.join(dir, 'thread.mjs');
    await writeFile(entry, threadScript(new URL('./request-thread.ts', import.meta.url).href));
  });
  afterAll(async () => {
    await Promise.all(threads.map((thread) => thread.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it('gives each request its own answer, sent before the thread was ready and answered out of order', async () => {
    const thread = open();
    const answers = await Promise.all([
      thread.request({ op: 'echo', text: 'slow', delayMs: 50 }),
      thread.request({ op: 'echo', text: 'quick' }),
      thread.request({ op: 'bytes', bytes: new Uint8Array([1, 2, 3, 250]) }),
    ]);
    expect(answers[0]).toMatchObject({ text: 'SLOW' });
    expect(answers[1]).toMatchObject({ text: 'QUICK' });
    expect(answers[2]).toEqual({ length: 4, sum: 256 });
  });

  it('copies what it sends unless told to move it', async () => {
    const thread = open();
    const kept = new Uint8Array([5, 6, 7]);
    expect(await thread.request({ op: 'bytes', bytes: kept })).toEqual({ length: 3, sum: 18 });
    expect(kept.byteLength).toBe(3);
    const moving = new Uint8Array([9, 9]);
    expect(await thread.request({ op: 'bytes', bytes: moving }, [moving.buffer])).toEqual({ length: 2, sum: 18 });
    expect(moving.byteLength).toBe(0);
  });

  it("makes a thread's failure an error through toError, and goes on answering", async () => {
    const thread = open();
    const error = await thread.request({ op: 'fail', text: 'no' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toBe('refused: no');
    expect(await thread.request({ op: 'echo', text: 'after' })).toMatchObject({ text: 'AFTER' });
  });

  it('fails the requests a dying thread held with lostError, and starts a new thread for the next', async () => {
    const thread = open((cause) => new Error(`lost: ${cause.message}`));
    const before = (await thread.request({ op: 'echo', text: 'one' })) as { threadId: number };
    const held = thread.request({ op: 'echo', text: 'held', delayMs: 5_000 }).catch((e: unknown) => e);
    const exiting = await thread.request({ op: 'exit' }).catch((e: unknown) => e);
    expect((exiting as Error).message).toBe('lost: the echo thread exited (3)');
    expect(((await held) as Error).message).toBe('lost: the echo thread exited (3)');
    const after = (await thread.request({ op: 'echo', text: 'two' })) as { text: string; threadId: number };
    expect(after.text).toBe('TWO');
    expect(after.threadId).not.toBe(before.threadId);
  });

  it('sends the requests made together in one message, and fails only the one that cannot cross', async () => {
    const thread = open();
    const results = await Promise.allSettled([
      ...Array.from({ length: 50 }, (_, i) => thread.request({ op: 'echo', text: `n${i}` })),
      // A function cannot be cloned: this request fails, the others made with it still cross.
      thread.request({ op: 'echo', text: (() => 'x') as unknown as string }),
    ]);
    for (let i = 0; i < 50; i++) expect(results[i]).toMatchObject({ status: 'fulfilled', value: { text: `N${i}` } });
    expect(results[50]).toMatchObject({ status: 'rejected', reason: { name: 'DataCloneError' } });
    expect(await thread.request({ op: 'echo', text: 'after' })).toMatchObject({ text: 'AFTER' });
  });

  it('moves a buffer that two requests made together share once, and fails a request for a buffer already moved', async () => {
    const thread = open();
    const shared = new Uint8Array([1, 2, 3]);
    const both = await Promise.all([
      thread.request({ op: 'bytes', bytes: shared }, [shared.buffer]),
      thread.request({ op: 'bytes', bytes: shared }, [shared.buffer]),
    ]);
    expect(both).toEqual([{ length: 3, sum: 6 }, { length: 3, sum: 6 }]);
    expect(shared.byteLength).toBe(0);
    // Moved already: a clear error, where Node would otherwise drop the message and leave the caller waiting.
    await expect(thread.request({ op: 'bytes', bytes: shared }, [shared.buffer])).rejects.toMatchObject({ name: 'DataCloneError' });
    expect(await thread.request({ op: 'bytes', bytes: new Uint8Array(0) }, [new ArrayBuffer(0)])).toEqual({ length: 0, sum: 0 });
  });

  it('refuses requests once closed', async () => {
    const thread = open();
    await thread.request({ op: 'echo', text: 'x' });
    await thread.close();
    await expect(thread.request({ op: 'echo', text: 'y' })).rejects.toThrow('the echo is closed');
  });
});
