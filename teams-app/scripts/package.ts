import { AppManifestUtils } from '@microsoft/app-manifest';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import yazl from 'yazl';

/**
 * `npm run package:teams [-- --public-url https://bridge.firm.example --client-id GUID]` writes the
 * app package Teams accepts for upload: manifest.json plus the two icons at the zip's root. The
 * options replace the development address and the placeholder Entra ID client id, and the result is
 * validated against the manifest's bundled schema before anything is written.
 */

/** The fields this script reads; the schema check covers the rest. */
interface TeamsManifestJson {
  version: string;
  icons: { color: string; outline: string };
}

const appDir = path.resolve(import.meta.dirname, '..');
const developmentUrl = 'https://localhost:3000';
const placeholderClientId = '0376c2db-5ba3-42d4-86bc-c916fe8e7a42';

const usage = `Usage: npm run package:teams -- --public-url https://HOST[:PORT] --client-id GUID [--out FILE]

Writes the Teams app package (a zip to upload in the Teams admin center, Manage apps):
  --public-url  the bridge's address as Teams reaches it, https with no path
                (default ${developmentUrl}: a package for trying the tab on this machine only)
  --client-id   the application (client) id of the API app registration in Entra ID
  --out         where to write it (default teams-app/build/wa-bridge-teams.zip)
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'public-url': { type: 'string', default: developmentUrl },
      'client-id': { type: 'string', default: placeholderClientId },
      out: { type: 'string', default: path.join(appDir, 'build', 'wa-bridge-teams.zip') },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write(usage);
    return;
  }
  const publicUrl = values['public-url'].replace(/\/+$/, '');
  if (!/^https:\/\/[^/]+$/.test(publicUrl)) throw new Error(`--public-url: expected https://host[:port] with no path, got "${values['public-url']}"`);
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(values['client-id'])) {
    throw new Error(`--client-id: expected the app registration's GUID, got "${values['client-id']}"`);
  }

  const template = await readFile(path.join(appDir, 'manifest.json'), 'utf8');
  const text = template
    .replaceAll(developmentUrl, publicUrl)
    .replaceAll(new URL(developmentUrl).host, new URL(publicUrl).host)
    .replaceAll(placeholderClientId, values['client-id']);
  const manifest = JSON.parse(text) as TeamsManifestJson;
  const problems = await AppManifestUtils.validateAgainstSchema(manifest as unknown as Parameters<typeof AppManifestUtils.validateAgainstSchema>[0]);
  if (problems.length > 0) throw new Error(`teams-app/manifest.json is not valid: ${problems.join('; ')}`);

  await mkdir(path.dirname(values.out), { recursive: true });
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`), 'manifest.json');
  for (const icon of [manifest.icons.color, manifest.icons.outline]) {
    zip.addBuffer(await readFile(path.join(appDir, 'icons', icon)), icon);
  }
  zip.end();
  await new Promise<void>((resolve, reject) => {
    zip.outputStream.pipe(createWriteStream(values.out)).on('close', resolve).on('error', reject);
  });
  console.log(`wrote ${path.relative(process.cwd(), values.out)} (manifest ${manifest.version}, ${publicUrl})`);
  if (publicUrl === developmentUrl) console.log(`  for ${developmentUrl}, this machine only; for the firm give --public-url and --client-id (npm run package:teams -- --help)`);
}

main().catch((error: unknown) => {
  console.error(`package:teams: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
