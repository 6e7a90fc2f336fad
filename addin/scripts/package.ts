import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';

/**
 * `npm run package:addin -- --public-url https://bridge.firm.example --client-id GUID` writes the
 * manifest.xml an Exchange or Microsoft 365 admin deploys (Integrated apps, or Add from File): the
 * repository's manifest with the development address and the placeholder Entra ID client id
 * replaced. Nothing else changes, so the checks on the repository's manifest hold for it too.
 */

const repo = path.resolve(import.meta.dirname, '../..');
const developmentUrl = 'https://localhost:3000';
const placeholderClientId = '0376c2db-5ba3-42d4-86bc-c916fe8e7a42';

const usage = `Usage: npm run package:addin -- --public-url https://HOST[:PORT] --client-id GUID [--out FILE]

Writes the Outlook add-in manifest to deploy (Microsoft 365 admin center, Integrated apps, or
Exchange admin, Add from File):
  --public-url  the bridge's address as Outlook reaches it, https with no path
  --client-id   the application (client) id of the API app registration in Entra ID
  --out         where to write it (default addin/build/manifest.xml)
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'public-url': { type: 'string' },
      'client-id': { type: 'string' },
      out: { type: 'string', default: path.join(repo, 'addin', 'build', 'manifest.xml') },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write(usage);
    return;
  }
  const publicUrl = (values['public-url'] ?? '').replace(/\/+$/, '');
  if (!/^https:\/\/[^/]+$/.test(publicUrl)) throw new Error(`--public-url: expected the bridge's https://host[:port] with no path, got "${values['public-url'] ?? ''}"`);
  const clientId = values['client-id'] ?? '';
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(clientId)) throw new Error(`--client-id: expected the API app registration's GUID, got "${clientId}"`);

  const template = await readFile(path.join(repo, 'manifest.xml'), 'utf8');
  const xml = template
    .replaceAll(developmentUrl, publicUrl)
    .replaceAll(`api://${new URL(developmentUrl).host}/`, `api://${new URL(publicUrl).host}/`)
    .replaceAll(placeholderClientId, clientId);
  if (xml.includes('localhost')) throw new Error('manifest.xml still names localhost after the replacement; update this script with the new field');
  await mkdir(path.dirname(values.out), { recursive: true });
  await writeFile(values.out, xml);
  console.log(`wrote ${path.relative(process.cwd(), values.out)} for ${publicUrl} (app registration ${clientId})`);
}

main().catch((error: unknown) => {
  console.error(`package:addin: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 2;
});
