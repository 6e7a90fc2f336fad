import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { inboundMessage } from '../bridge-server/src/channels/simulator/builders.js';
import { signatureHeader, toMetaJson } from '../bridge-server/src/channels/simulator/meta-json.js';
import { startBridgeProcess } from '../tests/support/bridge-process.js';
import { freePort } from '../tests/support/ports.js';
import { startSmtpSink } from './support/smtp-sink.js';

export interface MemoryResult {
  /** Resident memory of the bridge (its process and any child processes) once started and settled. */
  idle_rss_mib: number;
  /** The highest resident memory while relaying `messages` webhooks (process high-water marks). */
  peak_rss_mib: number;
  /** Resident memory once the load is over and the bridge has settled again. */
  after_load_rss_mib: number;
  /** Threads of the bridge process when idle (a worker thread shows as several). */
  idle_threads: number;
  /** From start to /readyz answering. */
  ready_seconds: number;
  messages: number;
  chats: number;
  load_average_1m: number;
}

const appSecret = 'bench-app-secret-0123456789';

/**
 * Memory of `wa-bridge serve` as deployed (Cloud API webhooks in, SMTP out to a sink), run as its
 * own process on a new SQLite data dir: resident memory once ready and settled, then the peak
 * while `messages` signed webhooks over `chats` chats are relayed, then once settled again. RSS
 * comes from /proc (VmRSS, VmHWM) of the process and of any processes it started. Goal: idle
 * under 150 MiB.
 */
export async function benchMemory(options: { messages?: number; chats?: number } = {}): Promise<MemoryResult> {
  const messages = options.messages ?? 3000;
  const chats = options.chats ?? 50;
  const sink = await startSmtpSink();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'wab-bench-memory-'));
  const port = await freePort();
  const started = performance.now();
  const bridge = await startBridgeProcess({
    PORT: String(port),
    WA_BRIDGE_HOST: '127.0.0.1',
    WA_BRIDGE_DATA_DIR: dataDir,
    WA_BRIDGE_SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
    WA_BRIDGE_MAILBOX: 'bench@firm.test',
    WA_BRIDGE_MAIL_DOMAIN: 'wa.firm.test',
    WA_BRIDGE_CLOUD_API_APP_SECRET: appSecret,
    WA_BRIDGE_CLOUD_API_VERIFY_TOKEN: 'bench-verify-token',
    WA_BRIDGE_CLOUD_API_ACCESS_TOKEN: 'bench-access-token',
    WA_BRIDGE_LOG_LEVEL: 'warn',
  });
  const readySeconds = (performance.now() - started) / 1000;
  const pid = bridge.child.pid!;
  try {
    await settle(pid);
    const idle = await median(pid, 5);
    const idleThreads = await threadsOf(pid);

    const webhook = `${bridge.url}/webhooks/whatsapp`;
    let counter = 0;
    const post = async (chat: number): Promise<void> => {
      const envelope = inboundMessage({ from: `4477009${String(chat).padStart(5, '0')}`, name: `Bench Client ${chat}`, type: 'text', body: `Benchmark message ${counter++} about the matter and the lease.` });
      const body = Buffer.from(toMetaJson(envelope));
      const res = await fetch(webhook, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': signatureHeader(appSecret, body) } });
      if (res.status !== 200) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
    };
    let sampling = true;
    let sampledPeak = 0;
    const sampler = (async () => {
      while (sampling) {
        sampledPeak = Math.max(sampledPeak, (await treeMemory(pid)).rss);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < messages) await post(next++ % chats);
      }),
    );
    // Every message is relayed, and each chat's first one after its "conversation opened" mail.
    await sink.waitFor(messages + chats, 300_000);
    sampling = false;
    await sampler;
    const peak = Math.max(sampledPeak, (await treeMemory(pid)).hwm);
    await settle(pid);
    const after = await median(pid, 5);
    return {
      idle_rss_mib: mib(idle),
      peak_rss_mib: mib(peak),
      after_load_rss_mib: mib(after),
      idle_threads: idleThreads,
      ready_seconds: Math.round(readySeconds * 100) / 100,
      messages,
      chats,
      load_average_1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    };
  } finally {
    await bridge.kill('SIGKILL');
    await sink.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * Waits until the process is quiet: at least 10 s, then until it used under 2% of a core over
 * the last 2 s (start-up work, the first checkpoint and scheduled jobs done), or 60 s at most.
 */
async function settle(pid: number): Promise<void> {
  const begin = performance.now();
  let previous = await cpuMs(pid);
  let quietSince = performance.now();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const now = await cpuMs(pid);
    if (now - previous > 10) quietSince = performance.now();
    previous = now;
    const elapsed = performance.now() - begin;
    if ((elapsed > 10_000 && performance.now() - quietSince > 2_000) || elapsed > 60_000) return;
  }
}

/** The middle of `n` readings of resident memory one second apart. */
async function median(pid: number, n: number): Promise<number> {
  const readings: number[] = [];
  for (let i = 0; i < n; i += 1) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, 1000));
    readings.push((await treeMemory(pid)).rss);
  }
  return readings.sort((a, b) => a - b)[Math.floor(n / 2)]!;
}

/** VmRSS and VmHWM in KiB of a process plus every process below it (threads share the process's). */
async function treeMemory(pid: number): Promise<{ rss: number; hwm: number }> {
  let rss = 0;
  let hwm = 0;
  for (const one of await processTree(pid)) {
    const status = await readFile(`/proc/${one}/status`, 'utf8').catch(() => '');
    rss += Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
    hwm += Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
  }
  return { rss, hwm };
}

async function processTree(pid: number): Promise<number[]> {
  const out = [pid];
  for (let i = 0; i < out.length; i += 1) {
    const tasks = await readdirSafe(`/proc/${out[i]}/task`);
    for (const task of tasks) {
      const children = await readFile(`/proc/${out[i]}/task/${task}/children`, 'utf8').catch(() => '');
      for (const child of children.split(' ').filter(Boolean)) out.push(Number(child));
    }
  }
  return out;
}

async function threadsOf(pid: number): Promise<number> {
  return (await readdirSafe(`/proc/${pid}/task`)).length;
}

async function readdirSafe(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

/** CPU milliseconds of the process, all threads (utime + stime from /proc/PID/stat, in 1/100 s). */
async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;
