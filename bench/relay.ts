import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { openBlobStore } from '../bridge-server/src/archive/keyring.js';
import { inboundMessage } from '../bridge-server/src/channels/simulator/builders.js';
import { signatureHeader, toMetaJson } from '../bridge-server/src/channels/simulator/meta-json.js';
import { openDatabase, type DatabaseLocation } from '../bridge-server/src/store/db.js';
import { startBridgeProcess } from '../tests/support/bridge-process.js';
import { freePort } from '../tests/support/ports.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { percentile } from './support/stats.js';
import { analyze, databaseUrl, withAdmin } from './support/postgres.js';

export interface RelayResult {
  throughput_per_s: number;
  ceiling_per_s: number;
  ratio: number;
  p50_ms: number;
  p99_ms: number;
  burst_p50_ms: number;
  burst_p99_ms: number;
  /**
   * The burst in its two parts: how fast webhooks were taken in (committed and answered) while the
   * relay also ran, and how fast the backlog left when they ended was relayed with no webhooks
   * arriving (null when less than a tenth of the burst was left: too short to time).
   */
  intake_per_s: number;
  drain_per_s: number | null;
  paced_rate_per_s: number;
  messages: number;
  chats: number;
  /** CPU the bridge process spent per message of the burst (all threads; main thread alone). */
  bridge_cpu_ms_per_msg: number;
  bridge_main_cpu_ms_per_msg: number;
  /**
   * CPU the bridge process spent per message at the paced rate (all threads; main thread alone):
   * the cost of an ordinary day's traffic, where messages arrive one at a time and share nothing.
   */
  paced_bridge_cpu_ms_per_msg: number;
  paced_bridge_main_cpu_ms_per_msg: number;
  /** CPU this benchmark process (webhook sender and SMTP sink) spent per message of the burst. */
  bench_cpu_ms_per_msg: number;
  /** The machine's 1-minute load average when the run ended: figures from a busy machine are lower. */
  load_average_1m: number;
}

const appSecret = 'bench-app-secret-0123456789';
const SMTP_CONNECTIONS = 8;

/**
 * Webhook in -> mail accepted by an SMTP sink, against the ceiling of the same sink fed the same
 * prepared messages by nodemailer's pool. The bridge runs as its own process, as in production.
 */


export async function benchRelay(
  options: { messages?: number; chats?: number; pacedRate?: number; pacedSeconds?: number; warmupMessages?: number; database?: 'sqlite' | 'postgres' } = {},
): Promise<RelayResult> {
  const messages = options.messages ?? 3000;
  const chats = options.chats ?? 50;
  const pacedRate = options.pacedRate ?? 200;
  const pacedCount = pacedRate * (options.pacedSeconds ?? 5);
  const warmupMessages = options.warmupMessages ?? messages;
  const sink = await startSmtpSink();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'wab-bench-'));
  let location: DatabaseLocation = { kind: 'sqlite', file: path.join(dataDir, 'wa-bridge.sqlite') };
  const pgName = `wab_bench_${process.pid}_${Date.now()}`;
  if (options.database === 'postgres') {
    await withAdmin((client) => client.query(`CREATE DATABASE ${pgName}`));
    location = { kind: 'postgres', url: databaseUrl(pgName) };
  }
  const port = await freePort();
  const bridge = await startBridgeProcess({
    ...(location.kind === 'postgres' ? { WA_BRIDGE_DATABASE_URL: location.url } : {}),
    PORT: String(port),
    WA_BRIDGE_HOST: '127.0.0.1',
    WA_BRIDGE_DATA_DIR: dataDir,
    WA_BRIDGE_SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
    WA_BRIDGE_SMTP_MAX_CONNECTIONS: String(SMTP_CONNECTIONS),
    WA_BRIDGE_MAILBOX: 'bench@firm.test',
    WA_BRIDGE_MAIL_DOMAIN: 'wa.firm.test',
    WA_BRIDGE_CLOUD_API_APP_SECRET: appSecret,
    WA_BRIDGE_CLOUD_API_VERIFY_TOKEN: 'bench-verify-token',
    WA_BRIDGE_CLOUD_API_ACCESS_TOKEN: 'bench-access-token',
    WA_BRIDGE_LOG_LEVEL: 'warn',
  });
  const phone = (chat: number) => `4477009${String(chat).padStart(5, '0')}`;
  // The sender stands in for Meta's servers, which in production run elsewhere: every webhook is
  // built and signed before the clock starts, and posted over kept-alive connections with Node's
  // plain HTTP client, so that as little of the two cores as possible goes to the sending side.
  let counter = 0;
  const prepare = (chat: number): Prepared => {
    const envelope = inboundMessage({ from: phone(chat), name: `Bench Client ${chat}`, type: 'text', body: `Benchmark message ${counter++} about the matter.` });
    const id = (envelope.entry[0]!.changes[0]!.value.messages as Array<{ id: string }>)[0]!.id;
    const body = Buffer.from(toMetaJson(envelope));
    return { chat, id, body, signature: signatureHeader(appSecret, body) };
  };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const target = new URL(`${bridge.url}/webhooks/whatsapp`);
  // A kept-alive connection the bridge closes as idle (after Node's 5 s keep-alive timeout, as
  // between the phases) can be picked for a request at that moment: such a request is sent again
  // on a new connection, as Node's documentation advises, timed from its first try. The bridge
  // takes a webhook it already has as a redelivery.
  const post = (webhook: Prepared, firstTry = performance.now()): Promise<{ id: string; at: number }> =>
    new Promise((resolve, reject) => {
      const at = firstTry;
      const req = http.request(
        { agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': webhook.body.length, 'x-hub-signature-256': webhook.signature } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => (res.statusCode === 200 ? resolve({ id: webhook.id, at }) : reject(new Error(`webhook answered ${res.statusCode}: ${Buffer.concat(chunks).toString()}`))));
          res.on('error', reject);
        },
      );
      req.on('error', (error: NodeJS.ErrnoException) => (req.reusedSocket && error.code === 'ECONNRESET' ? resolve(post(webhook, at)) : reject(error)));
      req.end(webhook.body);
    });

  try {
    // Warm-up, so the runs measure the steady state of a bridge that has been up a while: open
    // every chat (cover mail + first message), then an unmeasured burst as large as the measured
    // one. V8 compiles the hot code on its helper threads during the first few thousand messages
    // (with only the chats opened, 0.8 - 1 ms of CPU per message of the burst went to compiling).
    await Promise.all(Array.from({ length: chats }, (_, chat) => post(prepare(chat))));
    await sink.waitFor(2 * chats, 60_000);
    await runBurst(sink, post, Array.from({ length: warmupMessages }, (_, i) => prepare(i % chats)));
    // PostgreSQL's autovacuum analyzes a table once a tenth of it has changed, on its next round
    // (autovacuum_naptime, a minute), and the new statistics send the bridge's prepared statements
    // to be planned again: a bridge that has been up a while runs on plans made for tables of
    // their real size. The warm-up filled tables that were empty when those statements were first
    // planned, and the benchmark is shorter than a round, so they are analyzed here, as autovacuum
    // would have done.
    if (location.kind === 'postgres') await analyze(location.url);

    const burstWebhooks = Array.from({ length: messages }, (_, i) => prepare(i % chats));
    const pacedWebhooks = Array.from({ length: pacedCount }, (_, i) => prepare(i % chats));
    const cpuBefore = await cpuOf(bridge.child.pid);
    const threadsBefore = await threadCpu(bridge.child.pid);
    const machineBefore = await machineCpu();
    const postgresBefore = await postgresCpu();
    const ownBefore = process.cpuUsage();
    const burst = await runBurst(sink, post, burstWebhooks);
    const own = process.cpuUsage(ownBefore);
    const cpuAfter = await cpuOf(bridge.child.pid);
    const threadsAfter = await threadCpu(bridge.child.pid);
    const machineAfter = await machineCpu();
    const postgresMs = (await postgresCpu()) - postgresBefore;
    process.stderr.write(`  machine: ${(((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * 100).toFixed(0)}% of all cores busy during the burst; PostgreSQL's processes ${(postgresMs / messages).toFixed(3)} ms of CPU per message\n`);
    printThreads(threadsBefore, threadsAfter, messages);
    const pacedCpuBefore = await cpuOf(bridge.child.pid);
    const paced = await runPaced(sink, post, pacedWebhooks, pacedRate);
    const pacedCpuAfter = await cpuOf(bridge.child.pid);
    agent.destroy();
    await bridge.kill('SIGTERM');
    if (process.env.WA_BRIDGE_BENCH_BRIDGE_LOG) await (await import('node:fs/promises')).writeFile(process.env.WA_BRIDGE_BENCH_BRIDGE_LOG, bridge.output());

    const raws = await relayedMails(dataDir, location, messages);
    const ceiling = await measureCeiling(sink, raws);
    return {
      throughput_per_s: round(burst.rate),
      ceiling_per_s: round(ceiling),
      ratio: round(burst.rate / ceiling, 3),
      p50_ms: round(percentile(paced, 50), 2),
      p99_ms: round(percentile(paced, 99), 2),
      burst_p50_ms: round(percentile(burst.latencies, 50), 2),
      burst_p99_ms: round(percentile(burst.latencies, 99), 2),
      intake_per_s: round(burst.intakeRate),
      drain_per_s: burst.drainRate === null ? null : round(burst.drainRate),
      paced_rate_per_s: pacedRate,
      messages,
      chats,
      bridge_cpu_ms_per_msg: round((cpuAfter.process - cpuBefore.process) / messages, 3),
      bridge_main_cpu_ms_per_msg: round((cpuAfter.main - cpuBefore.main) / messages, 3),
      paced_bridge_cpu_ms_per_msg: round((pacedCpuAfter.process - pacedCpuBefore.process) / pacedCount, 3),
      paced_bridge_main_cpu_ms_per_msg: round((pacedCpuAfter.main - pacedCpuBefore.main) / pacedCount, 3),
      bench_cpu_ms_per_msg: round((own.user + own.system) / 1000 / messages, 3),
      load_average_1m: round(loadavg()[0] ?? 0, 2),
    };
  } finally {
    await bridge.kill('SIGKILL');
    await sink.stop();
    await rm(dataDir, { recursive: true, force: true });
    if (location.kind === 'postgres') await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${pgName} WITH (FORCE)`));
  }
}

interface Prepared {
  chat: number;
  id: string;
  body: Buffer;
  signature: string;
}

type Post = (webhook: Prepared) => Promise<{ id: string; at: number }>;

async function runBurst(sink: SmtpSink, post: Post, webhooks: Prepared[]): Promise<{ rate: number; intakeRate: number; drainRate: number | null; latencies: number[] }> {
  const n = webhooks.length;
  const before = sink.accepted.length;
  const sentAt = new Map<string, number>();
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < n) {
        const i = next++;
        const { id, at } = await post(webhooks[i]!);
        sentAt.set(id, at);
      }
    }),
  );
  const answered = performance.now();
  await sink.waitFor(before + n, 300_000);
  const accepted = sink.accepted.slice(before);
  const end = Math.max(...accepted.map((a) => a.at));
  const left = accepted.filter((a) => a.at > answered).length;
  return {
    rate: (n / (end - start)) * 1000,
    intakeRate: (n / (answered - start)) * 1000,
    drainRate: left >= n / 10 ? (left / (end - answered)) * 1000 : null,
    latencies: latenciesOf(accepted, sentAt),
  };
}

async function runPaced(sink: SmtpSink, post: Post, webhooks: Prepared[], rate: number): Promise<number[]> {
  const n = webhooks.length;
  const before = sink.accepted.length;
  const sentAt = new Map<string, number>();
  const start = performance.now();
  const posts: Array<Promise<void>> = [];
  for (let i = 0; i < n; i += 1) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    posts.push(post(webhooks[i]!).then(({ id, at }) => void sentAt.set(id, at)));
  }
  await Promise.all(posts);
  await sink.waitFor(before + n, 120_000);
  return latenciesOf(sink.accepted.slice(before), sentAt);
}

function latenciesOf(accepted: Array<{ key: string; at: number }>, sentAt: Map<string, number>): number[] {
  const out: number[] = [];
  for (const a of accepted) {
    const sent = sentAt.get(a.key);
    if (sent !== undefined) out.push(a.at - sent);
  }
  return out;
}

/** The exact bytes the bridge relayed, read back from its store. */
async function relayedMails(dataDir: string, location: DatabaseLocation, n: number): Promise<Buffer[]> {
  const opened = await openDatabase(location);
  try {
    // Blobs are sealed at rest: read them through the store's keys, as the bridge does.
    const { store } = await openBlobStore({ dataDir, blobEncryption: true }, opened.db);
    const rows = await opened.db.selectFrom('mail_relays').select('raw_sha256').where('event_id', 'is not', null).where('state', '=', 'sent').orderBy('id', 'desc').limit(n).execute();
    return await Promise.all(rows.map((r) => store.get(r.raw_sha256)));
  } finally {
    await opened.close();
  }
}

async function measureCeiling(sink: SmtpSink, raws: Buffer[]): Promise<number> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: sink.port, secure: false, ignoreTLS: true, pool: true, maxConnections: SMTP_CONNECTIONS, maxMessages: 1000 });
  try {
    const envelope = { from: 'bridge@wa.firm.test', to: ['bench@firm.test'] };
    // Warmed like the bridge: one unmeasured pass over the same mails first. With a single mail
    // sent before the clock, the measured pass ran partly unoptimised (1,300 - 2,100 messages/s
    // where the warm pool reaches 1,900 - 2,900 here), which flattered the ratio.
    await Promise.all(raws.map((raw) => transport.sendMail({ envelope, raw })));
    // Three passes measured, the fastest kept: a pass (a second or so) moved by a third from run to
    // run, and the ceiling is what the link takes when nothing else gets in its way. Keeping the
    // fastest makes the ratio stricter, never kinder.
    let fastest = 0;
    for (let pass = 0; pass < 3; pass += 1) {
      const start = performance.now();
      await Promise.all(raws.map((raw) => transport.sendMail({ envelope, raw })));
      fastest = Math.max(fastest, (raws.length / (performance.now() - start)) * 1000);
    }
    process.stderr.write(`  ceiling: fastest of 3 passes ${fastest.toFixed(0)} messages/s\n`);
    return fastest;
  } finally {
    transport.close();
  }
}

/**
 * CPU milliseconds a process has used, all threads and its main thread alone, from /proc (Linux);
 * unlike throughput on a shared machine, this hardly moves with what else is running.
 */
async function cpuOf(pid: number | undefined): Promise<{ process: number; main: number }> {
  if (pid === undefined) return { process: Number.NaN, main: Number.NaN };
  const total = async (file: string) => {
    const { userMs, sysMs } = await procStat(file);
    return userMs + sysMs;
  };
  return { process: await total(`/proc/${pid}/stat`), main: await total(`/proc/${pid}/task/${pid}/stat`) };
}

/** The command name and CPU milliseconds (user, system) of a /proc/…/stat file. */
async function procStat(file: string): Promise<{ name: string; userMs: number; sysMs: number }> {
  const stat = await readFile(file, 'utf8');
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const msPerTick = 1000 / CLOCK_TICKS_PER_S;
  return { name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), userMs: Number(fields[11]) * msPerTick, sysMs: Number(fields[12]) * msPerTick };
}

/** USER_HZ: Linux reports CPU times in 1/100 s on every common architecture. */
const CLOCK_TICKS_PER_S = 100;

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

/** CPU per message of the burst by thread name (main, worker threads, libuv pool, V8 helpers), on stderr. */
async function threadCpu(pid: number | undefined): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (pid === undefined) return out;
  const { readdir } = await import('node:fs/promises');
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    try {
      const { name, userMs, sysMs } = await procStat(`/proc/${pid}/task/${tid}/stat`);
      out.set(`${tid} ${name} user`, userMs);
      out.set(`${tid} ${name} sys`, sysMs);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

function printThreads(before: Map<string, number>, after: Map<string, number>, messages: number): void {
  const rows = [...after].map(([key, ms]) => [key, (ms - (before.get(key) ?? 0)) / messages] as const).filter(([, v]) => v > 0.005);
  rows.sort((a, b) => b[1] - a[1]);
  for (const [key, v] of rows) process.stderr.write(`  thread ${key}: ${v.toFixed(3)} ms/msg\n`);
}

/** Busy and total jiffies of all cores (/proc/stat). */
async function machineCpu(): Promise<{ busy: number; total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
  const fields = line.split(/\s+/).slice(1).map(Number);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** CPU milliseconds used so far by every process named postgres (the server on this machine). */
async function postgresCpu(): Promise<number> {
  const { readdir } = await import('node:fs/promises');
  let ms = 0;
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const { name, userMs, sysMs } = await procStat(`/proc/${pid}/stat`);
      if (name === 'postgres') ms += userMs + sysMs;
    } catch {
      // the process ended between the listing and the read
    }
  }
  return ms;
}
