import { AppManifestUtils } from '@microsoft/app-manifest';
import { convert } from 'office-addin-manifest-converter';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { unzip } from '../support/zip.js';

/**
 * Both manifests, validated offline: manifest.xml is converted to the unified JSON manifest and
 * checked against the bundled schema (the converter writes nothing for a broken XML file, so the
 * output must exist), plus the XML facts a conversion cannot see; teams-app/manifest.json is
 * checked against its own bundled schema, and `npm run package:teams` must produce an uploadable zip.
 */

/** The fields these tests read; the schema check covers the rest. */
interface TeamsJson {
  id: string;
  icons: { color: string; outline: string };
  staticTabs?: { contentUrl?: string; websiteUrl?: string; scopes: string[] }[];
  configurableTabs?: { configurationUrl: string; scopes: string[] }[];
  validDomains?: string[];
  webApplicationInfo?: { id: string; resource?: string };
  extensions?: unknown[];
}

const validate = (manifest: unknown) => AppManifestUtils.validateAgainstSchema(manifest as Parameters<typeof AppManifestUtils.validateAgainstSchema>[0]);

const repo = path.resolve(import.meta.dirname, '../..');
const work = mkdtempSync(path.join(tmpdir(), 'wab-manifests-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const xml = readFileSync(path.join(repo, 'manifest.xml'), 'utf8');
const teamsManifest = JSON.parse(readFileSync(path.join(repo, 'teams-app/manifest.json'), 'utf8')) as TeamsJson;

function attributeValues(name: string): string[] {
  return [...xml.matchAll(new RegExp(`\\b${name}="([^"]*)"`, 'g'))].map((match) => match[1]!);
}

/** Maps a manifest URL under https://localhost:3000/addin/ to the file the build serves there. */
function addinFileFor(url: string): string {
  const { pathname } = new URL(url);
  expect(pathname.startsWith('/addin/')).toBe(true);
  const relative = pathname.slice('/addin/'.length);
  return relative.startsWith('icons/') ? path.join(repo, 'addin/public', relative) : path.join(repo, 'addin', relative);
}

async function convertXml(source: string, name: string): Promise<string> {
  const out = path.join(work, name);
  await convert(source, out, false);
  return path.join(out, 'manifest.json');
}

describe('manifest.xml (Outlook mail add-in)', () => {
  it('converts to a unified manifest that is valid against the bundled schema', async () => {
    const converted = await convertXml(path.join(repo, 'manifest.xml'), 'addin');
    expect(existsSync(converted)).toBe(true);
    const json = JSON.parse(readFileSync(converted, 'utf8')) as TeamsJson;
    expect(await validate(json)).toEqual([]);
    expect(json.id).toBe('98c9b622-fc52-415e-b2e2-024207cc8fbf');
    expect(json.webApplicationInfo?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(json.extensions)).toContain('"minVersion":"1.8"');
  });

  it('is a read-surface MailApp with a pinnable task pane button and SSO registration', () => {
    expect(xml).toMatch(/xsi:type="MailApp"/);
    expect(xml).toMatch(/<Form xsi:type="ItemRead">/);
    expect(xml).toMatch(/<ExtensionPoint xsi:type="MessageReadCommandSurface">/);
    expect(xml).toMatch(/<Action xsi:type="ShowTaskpane">[\s\S]*<SupportsPinning>true<\/SupportsPinning>/);
    expect(xml).toMatch(/<WebApplicationInfo>\s*<Id>[0-9a-f-]{36}<\/Id>\s*<Resource>api:\/\/[^<]+<\/Resource>/);
    expect(xml).toMatch(/<Set Name="Mailbox" MinVersion="1.8"\/>/);
  });

  it('uses https for every URL, and every one points at a file the build serves', () => {
    const urls = attributeValues('DefaultValue').filter((value) => /^[a-z]+:\/\//.test(value));
    expect(urls.length).toBeGreaterThanOrEqual(8);
    for (const url of urls) {
      expect(url, url).toMatch(/^https:\/\//);
      expect(existsSync(addinFileFor(url)), `${url} has no file behind it`).toBe(true);
    }
  });

  it('resolves every resid to a declared resource, and icons have the sizes they claim', () => {
    const declared = new Set(attributeValues('id'));
    const used = attributeValues('resid');
    expect(used.length).toBeGreaterThan(5);
    for (const resid of used) expect(declared.has(resid), `resid ${resid} is not declared`).toBe(true);
    for (const [, size, resid] of xml.matchAll(/<bt:Image size="(\d+)" resid="([^"]+)"\/>/g)) {
      const url = new RegExp(`<bt:Image id="${resid}" DefaultValue="([^"]+)"`).exec(xml)?.[1];
      expect(url, resid).toBeDefined();
      expect(pngSize(addinFileFor(url!))).toEqual({ width: Number(size), height: Number(size) });
    }
  });

  it('npm run package:addin writes a deployable manifest for the firm\'s address and app registration, valid as well', async () => {
    const out = path.join(work, 'deploy', 'manifest.xml');
    const clientId = '11111111-2222-3333-4444-555555555555';
    await promisify(execFile)('npx', ['tsx', 'addin/scripts/package.ts', '--out', out, '--public-url', 'https://wa.firm.example', '--client-id', clientId], { cwd: repo });
    const deployed = readFileSync(out, 'utf8');
    expect(deployed).not.toContain('localhost');
    expect(deployed).toContain('<SourceLocation DefaultValue="https://wa.firm.example/addin/index.html"/>');
    expect(deployed).toContain(`<Resource>api://wa.firm.example/${clientId}</Resource>`);
    const json = JSON.parse(readFileSync(await convertXml(out, 'deployed'), 'utf8')) as TeamsJson;
    expect(await validate(json)).toEqual([]);
    expect(json.webApplicationInfo?.id).toBe(clientId);
    const refused = promisify(execFile)('npx', ['tsx', 'addin/scripts/package.ts', '--out', path.join(work, 'no.xml'), '--public-url', 'http://wa.firm.example', '--client-id', clientId], { cwd: repo });
    await expect(refused).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('--public-url: expected') });
  });

  it('a broken manifest fails the conversion and leaves no output behind', async () => {
    const broken = path.join(work, 'broken.xml');
    writeFileSync(broken, xml.replace(/<Id>[^<]+<\/Id>/, '<Id>not-a-guid</Id>'));
    await expect(convertXml(broken, 'broken')).rejects.toThrow(/Value does not fall within the expected range/);
    expect(existsSync(path.join(work, 'broken', 'manifest.json'))).toBe(false);
  });
});

describe('teams-app/manifest.json', () => {
  it('is valid against the bundled Teams schema', async () => {
    expect(await validate(teamsManifest)).toEqual([]);
  });

  it('has a personal tab and a configurable channel tab on https, with SSO and valid domains', () => {
    expect(teamsManifest.staticTabs?.[0]?.scopes).toEqual(['personal']);
    expect(teamsManifest.configurableTabs?.[0]?.scopes).toContain('team');
    const urls = [...(teamsManifest.staticTabs ?? []).flatMap((tab) => [tab.contentUrl, tab.websiteUrl]), ...(teamsManifest.configurableTabs ?? []).map((tab) => tab.configurationUrl)];
    for (const url of urls) {
      expect(url, String(url)).toMatch(/^https:\/\/localhost:3000\/teams\//);
      expect(teamsManifest.validDomains).toContain(new URL(url!).host);
    }
    expect(teamsManifest.webApplicationInfo?.resource).toMatch(/^api:\/\/localhost:3000\//);
  });

  it('ships icons of the sizes Teams requires', () => {
    expect(pngSize(path.join(repo, 'teams-app/icons', teamsManifest.icons.color))).toEqual({ width: 192, height: 192 });
    expect(pngSize(path.join(repo, 'teams-app/icons', teamsManifest.icons.outline))).toEqual({ width: 32, height: 32 });
  });

  it('a broken manifest is reported with the field at fault', async () => {
    const { developer: _developer, ...broken } = teamsManifest as TeamsJson & { developer?: unknown };
    const problems = await validate(broken);
    expect(problems.join('\n')).toContain("must have required property 'developer'");
  });

  it('npm run package:teams writes a zip with the manifest and both icons at its root', async () => {
    const out = path.join(work, 'teams.zip');
    await promisify(execFile)('npx', ['tsx', 'teams-app/scripts/package.ts', '--out', out, '--public-url', 'https://wa.firm.example', '--client-id', '11111111-2222-3333-4444-555555555555'], { cwd: repo });
    expect(statSync(out).size).toBeGreaterThan(1000);
    const entries = await unzip(out);
    expect([...entries.keys()].sort()).toEqual(['color.png', 'manifest.json', 'outline.png']);
    const packaged = JSON.parse(entries.get('manifest.json')!.toString('utf8')) as TeamsJson;
    expect(packaged.staticTabs?.[0]?.contentUrl).toBe('https://wa.firm.example/teams/index.html?view=personal');
    expect(packaged.validDomains).toEqual(['wa.firm.example']);
    expect(packaged.webApplicationInfo).toEqual({ id: '11111111-2222-3333-4444-555555555555', resource: 'api://wa.firm.example/11111111-2222-3333-4444-555555555555' });
    expect(await validate(packaged)).toEqual([]);
  });

  it('both packaging scripts explain their options on --help, and name an unknown one', async () => {
    for (const script of ['addin/scripts/package.ts', 'teams-app/scripts/package.ts']) {
      const help = await promisify(execFile)('npx', ['tsx', script, '--help'], { cwd: repo });
      expect(help.stdout).toMatch(/^Usage: npm run package:(addin|teams) -- --public-url/);
      for (const option of ['--public-url', '--client-id', '--out']) expect(help.stdout).toContain(`  ${option}`);
      const unknown = promisify(execFile)('npx', ['tsx', script, '--public-uri', 'https://wa.firm.example'], { cwd: repo });
      await expect(unknown).rejects.toMatchObject({ stderr: expect.stringContaining("Unknown option '--public-uri'") });
    }
  });

  it('package:teams refuses a plain-http address with one clear line', async () => {
    const run = promisify(execFile)('npx', ['tsx', 'teams-app/scripts/package.ts', '--out', path.join(work, 'no.zip'), '--public-url', 'http://wa.firm.example'], { cwd: repo });
    await expect(run).rejects.toMatchObject({ stderr: expect.stringContaining('--public-url: expected https://') });
    expect(existsSync(path.join(work, 'no.zip'))).toBe(false);
  });
});

function pngSize(file: string): { width: number; height: number } {
  const bytes = readFileSync(file);
  expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}
