import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboundMessage } from '../../bridge-server/src/channels/simulator/builders.js';
import { signatureHeader, toMetaJson } from '../../bridge-server/src/channels/simulator/meta-json.js';
import { sessionStates } from '../../bridge-server/src/channels/whatsapp-web/session.js';
import { webhookOutcomes } from '../../bridge-server/src/ops/metrics.js';
import { postSignedWebhook, startBridgeWorld, waitFor, type BridgeWorld } from '../support/bridge.js';
import { freePort } from '../support/ports.js';

const run = promisify(execFile);
const alertsDir = path.resolve(import.meta.dirname, '../../docs/alerts');
const rulesText = readFileSync(path.join(alertsDir, 'wa-bridge.rules.yml'), 'utf8');

/** Runs promtool (Debian's prometheus package, installed by .ci/install-system-deps.sh) in docs/alerts. */
async function promtool(...args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run('promtool', args, { cwd: alertsDir });
    return stdout + stderr;
  } catch (error) {
    const failed = error as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (failed.code === 'ENOENT') throw new Error('promtool is not installed: run `bash .ci/install-system-deps.sh` (it installs Debian\'s prometheus package for it)', { cause: error });
    throw new Error(`promtool ${args.join(' ')} failed:\n${failed.stdout ?? ''}${failed.stderr ?? ''}`, { cause: error });
  }
}

/** The label matchers the rules apply to the bridge's own metrics, job="…" aside. */
function matchersInRules(): Array<{ label: string; op: '=' | '=~'; value: string }> {
  return [...rulesText.matchAll(/wa_bridge_\w+\{([^}]*)\}/g)].flatMap(([, inside]) =>
    [...inside!.matchAll(/(\w+)\s*(=~|=)\s*"([^"]*)"/g)].map(([, label, op, value]) => ({ label: label!, op: op as '=' | '=~', value: value! })),
  );
}

/** `name{a="x",b="y"} value` lines of a Prometheus text exposition, as label maps by metric name. */
function samplesOf(exposition: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  return exposition
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [, name, inside, value] = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line) ?? [];
      const labels = Object.fromEntries([...(inside ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, key, val]) => [key!, val!]));
      return { name: name!, labels, value: Number(value) };
    });
}

describe('alerting rules (docs/alerts)', () => {
  it('pass promtool check rules and their unit tests', async () => {
    expect(await promtool('check', 'rules', 'wa-bridge.rules.yml')).toContain('SUCCESS: 8 rules found');
    expect(await promtool('test', 'rules', 'wa-bridge.rules.test.yml')).toContain('SUCCESS');
  });

  describe('against a running bridge whose mail server is down', () => {
    let world: BridgeWorld;
    let exposition: string;

    beforeAll(async () => {
      // Nothing listens on this port: every relay fails as an unreachable SMTP server does.
      world = await startBridgeWorld({ smtpUrl: `smtp://127.0.0.1:${await freePort()}`, mailbox: 'solicitor@firm.test' });
      const url = world.bridge.url;
      expect(await postSignedWebhook(url, inboundMessage({ from: '447700900311', name: 'Alert Client', type: 'text', body: 'Is anyone there?' }))).toBe(true);
      const body = Buffer.from(toMetaJson(inboundMessage({ from: '447700900312', name: 'Forged', type: 'text', body: 'forged' })), 'utf8');
      const forged = await fetch(`${url}/webhooks/whatsapp`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': signatureHeader('not-the-app-secret', body) }, body });
      expect(forged.status).toBe(401);
      const scrape = async () => (exposition = await (await fetch(`${url}/metrics`)).text());
      await waitFor(async () => /wa_bridge_outbox_job_failures_total\{[^}]*reason="smtp_transient"\} [1-9]/.test(await scrape()), 20_000, () => exposition);
    });
    afterAll(async () => {
      await world?.stop();
    });

    it('exports every metric the rules name', () => {
      const names = new Set([...rulesText.matchAll(/\b(wa_bridge_\w+)/g)].map(([, name]) => name!));
      expect([...names].sort()).toEqual([
        'wa_bridge_archive_task_failures_total',
        'wa_bridge_archive_task_overdue',
        'wa_bridge_outbox_job_failures_total',
        'wa_bridge_outbox_jobs_needs_attention',
        'wa_bridge_relay_lag_seconds',
        'wa_bridge_webhook_requests_total',
        'wa_bridge_whatsapp_web_session',
      ]);
      // The session gauge exists only where whatsapp-web.js is on; the others on every bridge.
      for (const name of names) if (name !== 'wa_bridge_whatsapp_web_session') expect(exposition, name).toMatch(new RegExp(`^# TYPE ${name} (counter|gauge)$`, 'm'));
      expect(rulesText).toContain('wa_bridge_whatsapp_web_session{state="ready"}');
    });

    it('matches label values the bridge gives, as it gives them', () => {
      const samples = samplesOf(exposition);
      const seen = (name: string, label: string) => new Set(samples.filter((s) => s.name === name && label in s.labels).map((s) => s.labels[label]!));
      // What this bridge has shown: an accepted webhook, a forged one, and relays the SMTP server refused.
      expect([...seen('wa_bridge_webhook_requests_total', 'outcome')].sort()).toEqual(['accepted', 'rejected_signature']);
      const reasons = [...seen('wa_bridge_outbox_job_failures_total', 'reason')];
      expect(reasons).toContain('smtp_transient');
      const lag = samples.find((s) => s.name === 'wa_bridge_relay_lag_seconds');
      expect(lag?.value).toBeGreaterThan(0);

      // Label values the rules may name: every webhook outcome and session state the code defines,
      // and the failure reasons this run produced (the mail route's, which the rules are about).
      const known: Record<string, readonly string[]> = { outcome: webhookOutcomes, state: sessionStates, reason: reasons };
      const matchers = matchersInRules();
      expect(matchers.length).toBeGreaterThanOrEqual(5);
      for (const { label, op, value } of matchers) {
        expect(Object.keys(known), `a rule matches on ${label}`).toContain(label);
        if (op === '=') expect(known[label], `${label}="${value}"`).toContain(value);
        else expect(known[label]!.some((given) => new RegExp(`^(?:${value})$`).test(given)), `${label}=~"${value}"`).toBe(true);
      }
    });
  });
});
