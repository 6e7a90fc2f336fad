import { mkdtemp, readFile, rm } from 'node:fs/promises';
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
import { databaseUrl, withAdmin } from './support/postgres.js';

export interface RelayResult {
  throughput_per_s: number;
  ceiling_per_s: number;
  ratio: number;
  p50_ms: number;
  p99_ms: number;
  burst_p50_ms: number;
  burst_p99_ms: number;
  paced_rate_per_s: number;
  messages: number;
  chats: number;
  /** CPU the bridge process spent per message of the burst (all threads; main thread alone). */
  bridge_cpu_ms_per_msg: number;
  bridge_main_cpu_ms_per_msg: number;
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


export async function benchRelay(options: { messages?: number; chats?: number; pacedRate?: number; pacedSeconds?: number; database?: 'sqlite' | 'postgres' } = {}): Promise<RelayResult> {
  const messages = options.messages ?? 3000;
  const chats = options.chats ?? 50;
  const pacedRate = options.pacedRate ?? 200;
  const pacedCount = pacedRate * (options.pacedSeconds ?? 5);
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
  const webhook = `${bridge.url}/webhooks/whatsapp`;
  const phone = (chat: number) => `4477009${String(chat).padStart(5, '0')}`;
  let counter = 0;
  const post = async (chat: number): Promise<{ id: string; at: number }> => {
    const envelope = inboundMessage({ from: phone(chat), name: `Bench Client ${chat}`, type: 'text', body: `Benchmark message ${counter++} about the matter.` });
    const id = (envelope.entry[0]!.changes[0]!.value.messages as Array<{ id: string }>)[0]!.id;
    const body = Buffer.from(toMetaJson(envelope));
    const at = performance.now();
    const res = await fetch(webhook, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': signatureHeader(appSecret, body) } });
    if (res.status !== 200) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
    await res.arrayBuffer();
    return { id, at };
  };

  try {
    // Warm-up: open every chat (cover mail + first message) so the runs measure steady state.
    await Promise.all(Array.from({ length: chats }, (_, chat) => post(chat)));
    await sink.waitFor(2 * chats, 60_000);

    const cpuBefore = await cpuOf(bridge.child.pid);
    const ownBefore = process.cpuUsage();
    const burst = await runBurst(sink, post, messages, chats);
    const own = process.cpuUsage(ownBefore);
    const cpuAfter = await cpuOf(bridge.child.pid);
    const paced = await runPaced(sink, post, pacedCount, pacedRate, chats);
    await bridge.kill('SIGTERM');

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
      paced_rate_per_s: pacedRate,
      messages,
      chats,
      bridge_cpu_ms_per_msg: round((cpuAfter.process - cpuBefore.process) / messages, 3),
      bridge_main_cpu_ms_per_msg: round((cpuAfter.main - cpuBefore.main) / messages, 3),
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

type Post = (chat: number) => Promise<{ id: string; at: number }>;

async function runBurst(sink: SmtpSink, post: Post, n: number, chats: number): Promise<{ rate: number; latencies: number[] }> {
  const before = sink.accepted.length;
  const sentAt = new Map<string, number>();
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < n) {
        const i = next++;
        const { id, at } = await post(i % chats);
        sentAt.set(id, at);
      }
    }),
  );
  await sink.waitFor(before + n, 300_000);
  const accepted = sink.accepted.slice(before);
  const end = Math.max(...accepted.map((a) => a.at));
  return { rate: (n / (end - start)) * 1000, latencies: latenciesOf(accepted, sentAt) };
}

async function runPaced(sink: SmtpSink, post: Post, n: number, rate: number, chats: number): Promise<number[]> {
  const before = sink.accepted.length;
  const sentAt = new Map<string, number>();
  const start = performance.now();
  const posts: Array<Promise<void>> = [];
  for (let i = 0; i < n; i += 1) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    posts.push(post(i % chats).then(({ id, at }) => void sentAt.set(id, at)));
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
    return Promise.all(rows.map((r) => store.get(r.raw_sha256)));
  } finally {
    await opened.close();
  }
}

async function measureCeiling(sink: SmtpSink, raws: Buffer[]): Promise<number> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: sink.port, secure: false, ignoreTLS: true, pool: true, maxConnections: SMTP_CONNECTIONS, maxMessages: 1000 });
  try {
    const envelope = { from: 'bridge@wa.firm.test', to: ['bench@firm.test'] };
    await transport.sendMail({ envelope, raw: raws[0]! });
    const start = performance.now();
    await Promise.all(raws.map((raw) => transport.sendMail({ envelope, raw })));
    return (raws.length / (performance.now() - start)) * 1000;
  } finally {
    transport.close();
  }
}

/**
 * CPU milliseconds a process has used, all threads and its main thread alone, from /proc (Linux);
 * unlike throughput on a shared machine, this hardly moves with what else is running.
 */
async function cpuOf(pid: number | undefined): Promise<{ process: number; main: number }> {
  const ticksOf = async (file: string) => {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = await readFile(file, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  };
  if (pid === undefined) return { process: Number.NaN, main: Number.NaN };
  const msPerTick = 1000 / CLOCK_TICKS_PER_S;
  return { process: (await ticksOf(`/proc/${pid}/stat`)) * msPerTick, main: (await ticksOf(`/proc/${pid}/task/${pid}/stat`)) * msPerTick };
}

/** USER_HZ: Linux reports CPU times in 1/100 s on every common architecture. */
const CLOCK_TICKS_PER_S = 100;

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
