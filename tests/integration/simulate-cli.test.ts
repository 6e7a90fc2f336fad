import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { testSecrets, useBridgeOnCatcher, waitFor } from '../support/bridge.js';
import { runWaBridge } from '../support/cli.js';

/** `wa-bridge simulate message`, as a newcomer or a test script uses it against a running bridge. */
describe('wa-bridge simulate', () => {
  const on = useBridgeOnCatcher();

  it('posts a signed message that the bridge takes and relays as a threaded mail', async () => {
    const webhook = `${on.world.bridge.url}/webhooks/whatsapp`;
    const sent = await runWaBridge(on.world.dataDir, ['simulate', 'message', '--webhook-url', webhook, '--app-secret', testSecrets.appSecret, '--from', '+447700900555', '--name', 'Sam Client', '--text', 'Sent from the command line'], {}, 60_000);
    expect(sent).toMatchObject({ code: 0, stdout: 'webhook answered 200\n' });
    await waitFor(() => on.catcher.mails().some((mail) => mail.raw.toString().includes('Sent from the command line')), 20_000, () => `${on.catcher.mails().length} mails caught`);
    const relayed = on.catcher.mails().find((mail) => mail.raw.toString().includes('Sent from the command line'))!;
    expect(relayed.raw.toString()).toMatch(/^From: "Sam Client \(WhatsApp\)"/m);
  });

  it('uploads a --file to the running simulator the bridge is configured with, and the bridge relays it with its caption', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'wa-simulate-file-'));
    try {
      const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(48 * 1024), Buffer.from('\n%%EOF\n')]);
      const file = path.join(dir, 'Engagement letter.pdf');
      await writeFile(file, pdf);
      const webhook = `${on.world.bridge.url}/webhooks/whatsapp`;
      const args = ['simulate', 'message', '--webhook-url', webhook, '--app-secret', testSecrets.appSecret, '--from', '+447700900559', '--name', 'Pat Client', '--file', file, '--text', 'Signed letter attached'];
      const sent = await runWaBridge(on.world.dataDir, [...args, '--simulator-url', on.world.simulator.url, '--access-token', testSecrets.accessToken], {}, 60_000);
      expect(sent.stderr).toBe('');
      expect(sent.code).toBe(0);
      expect(sent.stdout).toMatch(new RegExp(`^uploaded Engagement letter\\.pdf \\(${pdf.length} bytes\\) to http://127\\.0\\.0\\.1:\\d+ as media \\d{16}\nwebhook answered 200\n$`));
      const mediaId = /as media (\d+)/.exec(sent.stdout)![1]!;
      // The simulator holds exactly the bytes, and the command has not waited for the download.
      expect(on.world.simulator.mediaById(mediaId)).toEqual({ bytes: pdf, mimeType: 'application/pdf' });

      const relayed = async () => {
        for (const mail of on.catcher.mails()) {
          const parsed = await simpleParser(mail.raw);
          if (parsed.text?.includes('Signed letter attached')) return parsed;
        }
        return undefined;
      };
      await waitFor(async () => (await relayed()) !== undefined, 20_000, () => `${on.catcher.mails().length} mails caught`);
      const mail = (await relayed())!;
      const attachment = mail.attachments.find((one) => one.filename === 'Engagement letter.pdf');
      expect(attachment?.contentType).toBe('application/pdf');
      const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
      expect(sha256(attachment!.content)).toBe(sha256(pdf));

      // Without the simulator to upload to, or with a token it does not accept, nothing is posted.
      const before = on.catcher.mails().length;
      expect(await runWaBridge(on.world.dataDir, args, {}, 60_000)).toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(/^wa-bridge: --file needs --simulator-url and --access-token/) });
      const refused = await runWaBridge(on.world.dataDir, [...args, '--simulator-url', on.world.simulator.url, '--access-token', 'not-the-token'], {}, 60_000);
      expect(refused).toMatchObject({ code: 1, stdout: '', stderr: expect.stringMatching(/^wa-bridge: the simulator at .* refused the upload with HTTP 401 \(the access token is not the one the simulator accepts\)/) });
      // A URL that is no simulator (here the bridge itself) gets neither the token nor the file.
      const notSimulator = await runWaBridge(on.world.dataDir, [...args, '--simulator-url', on.world.bridge.url, '--access-token', testSecrets.accessToken], {}, 60_000);
      expect(notSimulator).toMatchObject({ code: 1, stdout: '', stderr: expect.stringContaining('is not a wa-bridge simulator') });
      expect(on.catcher.mails().length).toBe(before);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says so when the secret is not the one the bridge checks signatures with, and exits 1', async () => {
    const webhook = `${on.world.bridge.url}/webhooks/whatsapp`;
    const sent = await runWaBridge(on.world.dataDir, ['simulate', 'message', '--webhook-url', webhook, '--app-secret', 'not-the-app-secret', '--from', '+447700900556', '--text', 'Forged'], {}, 60_000);
    expect(sent.code).toBe(1);
    expect(sent.stdout).toMatch(/^webhook answered 401: /);
  });

  it('refuses a webhook URL that is not http(s) before starting anything, with the usage exit code', async () => {
    for (const args of [['simulate', '--webhook-url', 'notaurl'], ['simulate', 'message', '--webhook-url', 'ftp://bridge', '--app-secret', 'x', '--from', '447700900557', '--text', 'hi']]) {
      const result = await runWaBridge(on.world.dataDir, args, {}, 60_000);
      expect(result.killedAfterMs).toBeUndefined();
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('is invalid. expected an http:// or https:// URL');
    }
    // The same code for any usage error commander finds; asking for help is none.
    expect(await runWaBridge(on.world.dataDir, ['simulate', 'message', '--from', '447700900558'], {}, 60_000)).toMatchObject({ code: 2, stderr: expect.stringMatching(/^error: required option '--webhook-url <url>' not specified/) });
    expect(await runWaBridge(on.world.dataDir, ['serve', '--bogus'], {}, 60_000)).toMatchObject({ code: 2, stderr: expect.stringMatching(/^error: unknown option '--bogus'/) });
    expect(await runWaBridge(on.world.dataDir, ['simulate', 'message', '--help'], {}, 60_000)).toMatchObject({ code: 0, stdout: expect.stringMatching(/^Usage: wa-bridge simulate message/) });
  });

  it('prints the version of the package it runs from with --version and -V, and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../bridge-server/package.json', import.meta.url), 'utf8')) as { version: string };
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    for (const flag of ['--version', '-V']) expect(await runWaBridge(on.world.dataDir, [flag], {}, 60_000)).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
    // A command's own options do not include it: there it is a usage error like any unknown option.
    expect(await runWaBridge(on.world.dataDir, ['serve', '--version'], {}, 60_000)).toMatchObject({ code: 2, stderr: expect.stringMatching(/^error: unknown option '--version'/) });
  });
});
