import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP_SIZE, prepareHere, type PrepareContext, type PreparedGroup } from '../../flows/import-prepare.js';
import { prepareOnThread } from './import-events.js';
import { openExportReader } from './read.js';
import { openExportSource, type ExportSource } from './source.js';

const threadUrl = new URL('./import-events-thread.js', import.meta.url);
// More groups than a thread builds ahead, so a thread left alone would wait for the import.
const MESSAGES = 5 * GROUP_SIZE + 777;

let dir: string;
let file: string;
let source: ExportSource;
let reader: Awaited<ReturnType<typeof openExportReader>>;
let context: PrepareContext;
let expected: PreparedGroup[];

async function collect(groups: AsyncIterable<PreparedGroup>): Promise<PreparedGroup[]> {
  const all: PreparedGroup[] = [];
  for await (const group of groups) all.push(group);
  return all;
}

/** A worker entry from source text (an ES module), for threads that misbehave on purpose. */
const scriptUrl = (text: string) => new URL(`data:text/javascript,${encodeURIComponent(text)}`);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'wab-import-events-'));
  file = path.join(dir, 'WhatsApp Chat with Jane Smith.txt');
  const lines: string[] = [];
  for (let i = 0; i < MESSAGES; i += 1) {
    const day = String(1 + (i % 28)).padStart(2, '0');
    const minute = String(i % 60).padStart(2, '0');
    const who = i % 3 === 0 ? 'Tom Baker' : 'Jane Smith';
    if (i % 97 === 0) lines.push(`${day}/03/2024, 10:${minute} - ${who}: IMG-20240314-WA${String(i).padStart(4, '0')}.jpg (file attached)`);
    else if (i % 41 === 0) lines.push(`${day}/03/2024, 10:${minute} - ${who}: first line ${i}\nsecond line: with a colon\nthird`);
    else if (i % 500 === 0) lines.push(`${day}/03/2024, 10:${minute} - Jane Smith changed the group description`);
    else lines.push(`${day}/03/2024, 10:${minute} - ${who}: message ${i} about the lease ✓`);
  }
  await writeFile(file, `${lines.join('\n')}\n`);
  source = await openExportSource(file);
  reader = await openExportReader(source);
  context = {
    sourceSha256: 'ab'.repeat(32),
    timeZone: 'Europe/London',
    party: { business: { id: 'chat-export' }, client: { name: 'Jane Smith', waId: '447700900123' } },
    firmAuthors: ['Tom Baker'],
    media: new Map([['IMG-20240314-WA0000.jpg', { sha256: 'cd'.repeat(32), size: 12 }]]),
    receivedAt: Date.UTC(2026, 0, 5),
    chain: { chatKey: 'chat-key', seq: 3, head: 'ef'.repeat(32) },
  };
  expected = await collect(prepareHere(reader.messages(), context));
});

afterAll(async () => {
  await source.close();
  await rm(dir, { recursive: true, force: true });
});

describe('import events on a thread', () => {
  it('builds the groups one thread builds, in file order', async () => {
    expect(expected.map((g) => g.waMessageIds.length)).toEqual([GROUP_SIZE, GROUP_SIZE, GROUP_SIZE, GROUP_SIZE, GROUP_SIZE, 777]);
    expect(expected.flatMap((g) => g.withMedia).length).toBeGreaterThan(0);
    const warnings: string[] = [];
    const threaded = await collect(
      prepareOnThread({ file, dateOrder: reader.dateOrder, profile: reader.profile, threadUrl, fallback: () => { throw new Error('no fallback expected'); }, warn: (m) => warnings.push(m) })(context),
    );
    expect(threaded).toEqual(expected);
    expect(warnings).toEqual([]);
  });

  it('builds everything here when the thread fails at once, and says so', async () => {
    const warnings: string[] = [];
    const skips: number[] = [];
    const groups = await collect(
      prepareOnThread({
        file,
        dateOrder: reader.dateOrder,
        profile: reader.profile,
        threadUrl: scriptUrl('throw new Error("no parser here");'),
        fallback: (c, skip) => (skips.push(skip), prepareHere(reader.messages(), c, skip)),
        warn: (m) => warnings.push(m),
      })(context),
    );
    expect(groups).toEqual(expected);
    expect(skips).toEqual([0]);
    expect(warnings).toEqual([expect.stringContaining('no parser here')]);
  });

  for (const [how, ending] of [
    ['says it failed', `port.postMessage({ kind: 'failed', message: 'disk gone' });`],
    ['exits', 'process.exit(3);'],
  ] as const) {
    it(`goes on here after the groups a thread delivered when it ${how}`, async () => {
      // The thread hands over a first group of GROUP_SIZE messages, then stops: the rest must be
      // the messages after them, not the file again.
      const first = `const n = ${GROUP_SIZE};
        const port = (await import('node:worker_threads')).parentPort;
        const group = { waMessageIds: Array(n).fill('x'), eventJsons: Array(n).fill('{}'), timestamps: new Float64Array(n), outbound: new Uint8Array(n),
          contentTypes: Array(n).fill('text'), shapes: Array(n).fill('text'), withMedia: [], attachments: [], mediaLinked: 0, mediaMissing: 0,
          seqBefore: 3, headBefore: 'ef'.repeat(32), links: Array(n).fill('x') };
        port.postMessage({ kind: 'group', group });
        await new Promise((resolve) => setTimeout(resolve, 50));
        ${ending}`;
      const warnings: string[] = [];
      const groups = await collect(
        prepareOnThread({ file, dateOrder: reader.dateOrder, profile: reader.profile, threadUrl: scriptUrl(first), fallback: (c, skip) => prepareHere(reader.messages(), c, skip), warn: (m) => warnings.push(m) })(context),
      );
      expect(groups[0]!.waMessageIds[0]).toBe('x');
      // The same messages after it, chained on from the delivered group's last link.
      const unchained = ({ seqBefore, headBefore, links, ...rest }: PreparedGroup) => (void [seqBefore, headBefore, links], rest);
      expect(groups.slice(1).map(unchained)).toEqual(expected.slice(1).map(unchained));
      expect([groups[1]!.seqBefore, groups[1]!.headBefore]).toEqual([3 + GROUP_SIZE, 'x']);
      expect(groups[2]!.headBefore).toBe(groups[1]!.links.at(-1));
      expect(warnings).toHaveLength(1);
    });
  }

  it('stops its thread when the import stops taking groups', async () => {
    // A worker is an operating-system thread of this process while it lives.
    const threadsNow = () => readdirSync('/proc/self/task').length;
    const before = threadsNow();
    const groups = prepareOnThread({ file, dateOrder: reader.dateOrder, profile: reader.profile, threadUrl, fallback: () => { throw new Error('no fallback expected'); } })(context);
    for await (const group of groups) {
      expect(group).toEqual(expected[0]);
      expect(threadsNow()).toBeGreaterThan(before);
      break;
    }
    const until = Date.now() + 5000;
    while (threadsNow() > before && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(threadsNow()).toBe(before);
  });
});
