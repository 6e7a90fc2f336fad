#!/usr/bin/env node
// The wa-bridge command. The sources are TypeScript; each command runs from a bundle esbuild makes
// of them on first use (see loadBundled), so the command works straight after `npm ci` with no
// build step.
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Changing how the bundles are made changes this, so bundles made before are rebuilt.
const BUILD = 'command bundles v9';

/**
 * Pure JavaScript packages spread over hundreds of small modules, which Node resolves and loads one
 * file at a time (about 0.1 – 0.2 s each at every start); in the bundle they load as part of it.
 */
const BUNDLED_PACKAGES = new Set(['kysely', 'zod', 'libphonenumber-js']);

const here = path.dirname(fileURLToPath(import.meta.url));
const command = process.argv[2];
// The commands with a bundle of their own; every other command shares one.
const entries = { 'parse-export': '../src/cli/parse-export-entry.ts', import: '../src/cli/import-entry.ts', serve: '../src/cli/index.ts' };
// Worker threads (the server's MIME composer, SMTP client and document reader, the import's event builder,
// parse-export's readers) start from entries of their own in their command's bundle: their paths
// reach the command's main(argv, { threads }).
const threadEntries = {
  'parse-export': { 'export-pieces': '../src/channels/chat-export/pieces-worker.ts' },
  import: { 'import-events': '../src/channels/chat-export/import-events-worker.ts' },
  serve: { compose: '../src/mail/compose/compose-worker.ts', smtp: '../src/mail/transport/smtp-worker.ts', documentText: '../src/search/document-text-worker.ts' },
};
// The simulator starts from the server's bundle, which holds every command; the others' bundle
// leaves it out. Help, with or without a command, comes from the others' bundle.
const bundleName = command === 'simulate' ? 'serve' : command !== undefined && Object.hasOwn(entries, command) ? command : 'commands';
const { main } = await loadBundled(bundleName, bundleName === 'commands' ? '../src/cli/index.ts' : entries[bundleName]);
// `wa-bridge --version` prints the package's version; the bundles live apart from package.json.
const { version } = JSON.parse(readFileSync(path.join(here, '../package.json'), 'utf8'));
// Whatever a command creates from here on (the store, keys, blobs, backups, exports) is readable
// by its owner alone, as the systemd unit's UMask=0077 has it, also when started by hand or by
// `npm start`: the archive holds privileged client correspondence. Set after the bundles are made,
// which every user of the checkout may share.
process.umask(0o077);
await main(process.argv, { version });

/**
 * parse-export (called by other tools once per file) and import (long, memory-bound) load what
 * they need alone, not the server.
 */
async function loadWithTsx(name) {
  const { register } = await import('tsx/esm/api');
  register();
  const light = { 'parse-export': '../src/cli/parse-export-entry.ts', import: '../src/cli/import-entry.ts' };
  return import(light[name] ?? '../src/cli/index.ts');
}

/**
 * A command starts from JavaScript bundled from its sources, kept in node_modules/.cache and
 * rebuilt when any source changes. Through tsx every module, npm packages included, passes its
 * loader thread: a second or more before an archive command starts, paid by every scheduled job
 * and by tools that call parse-export once per file; and a running server keeps the loader
 * thread, the compiler and the source maps, some 70 MB of its memory. In the bundle, npm packages
 * load natively. What a module imports on use (import()) becomes a chunk of its own, loaded only
 * then, so the bundle loads no more at start than the sources would. Anything that stops the
 * bundle (no esbuild, a read-only tree) falls back to tsx.
 */
async function loadBundled(name, entry) {
  const cache = path.join(here, '../node_modules/.cache/wa-bridge');
  const bundle = path.join(cache, name, 'main.mjs');
  const manifest = path.join(cache, `${name}.json`);
  try {
    if (!isFresh(manifest) || !existsSync(bundle)) await build(name, path.join(here, entry), cache, bundle, manifest);
    const threads = {};
    for (const [thread, file] of Object.entries(JSON.parse(readFileSync(manifest, 'utf8')).threads ?? {})) threads[thread] = path.join(path.dirname(bundle), file);
    const loaded = await import(pathToFileURL(bundle).href);
    return { main: (argv, options) => loaded.main(argv, { ...options, threads }) };
  } catch (error) {
    // Say so once: the command still works, but starts slower and holds more memory. A deployment
    // whose tree is read-only makes the bundles at install time (`npm run build:commands`).
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    process.stderr.write(`wa-bridge: running from the TypeScript sources through tsx (the ${name} bundle in ${cache} could not be made or loaded: ${reason})\n`);
    return loadWithTsx(command);
  }
}

/** True when every source the bundle was made from is as it was then. */
function isFresh(manifest) {
  let recorded;
  try {
    recorded = JSON.parse(readFileSync(manifest, 'utf8'));
  } catch {
    return false;
  }
  if (recorded.build !== BUILD) return false;
  for (const [file, stamp] of Object.entries(recorded.inputs)) {
    try {
      const info = statSync(file);
      if (`${info.size}:${info.mtimeMs}` !== stamp) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * Bundles our own modules (workspace packages included) into one file; npm packages stay imports.
 * Each module keeps its own import.meta.url (the source file's), so what it finds beside itself
 * (migrations, worker scripts, page assets) is found from the bundle too.
 */
async function build(name, entry, cache, bundle, manifest) {
  // esbuild comes with tsx, which this command depends on.
  const require = createRequire(createRequire(import.meta.url).resolve('tsx/package.json'));
  const esbuild = require('esbuild');
  const ownUrl = {
    name: 'own-import-meta-url',
    setup(build) {
      build.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, (args) => {
        if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
        const source = readFileSync(args.path, 'utf8');
        if (!source.includes('import.meta.url')) return undefined;
        return { contents: source.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)), loader: path.extname(args.path).slice(1).replace(/^[cm]/, '') };
      });
    },
  };
  // The other commands' bundle leaves out what serve and simulate load on use (the whole server,
  // the simulator), so that building it does not need to take in the server.
  const serverOnly = {
    name: 'server-only',
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, (args) => (args.kind === 'dynamic-import' && /[\\/]cli[\\/](serve|simulate)\.ts$/.test(args.importer) ? { path: args.path, external: true } : undefined));
    },
  };
  const threadSources = Object.fromEntries(Object.entries(threadEntries[name] ?? {}).map(([thread, source]) => [thread, path.join(here, source)]));
  const result = await esbuild.build({
    entryPoints: { main: entry, ...threadSources },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    metafile: true,
    splitting: true,
    outdir: path.dirname(bundle),
    // Thread entries keep the hash of their content in their names, like chunks (below); the main
    // entry is written as main.mjs.
    entryNames: '[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    logLevel: 'silent',
    plugins: name === 'serve' ? [ownUrl] : [serverOnly, ownUrl],
    absWorkingDir: process.cwd(),
    // Bare imports that are not our workspace packages are left for Node to resolve.
    external: externalPackages(path.dirname(entry)),
  });
  // esbuild's service process would otherwise stay beside the command for as long as it runs.
  esbuild.stop();
  const root = process.cwd();
  const inputs = {};
  for (const input of Object.keys(result.metafile.inputs)) {
    const file = path.resolve(root, input);
    const info = statSync(file);
    inputs[file] = `${info.size}:${info.mtimeMs}`;
  }
  mkdirSync(cache, { recursive: true });
  // Written aside and renamed: processes starting together never read half a bundle. Chunk
  // names carry a hash of their content and chunks are never removed, so a running server still
  // finds what it loads on use after the sources changed and the bundle was made again.
  const unique = `.${process.pid}.${Date.now()}`;
  mkdirSync(path.dirname(bundle), { recursive: true });
  const entryOf = new Map(Object.entries(result.metafile.outputs).map(([output, meta]) => [path.resolve(root, output), meta.entryPoint && path.resolve(root, meta.entryPoint)]));
  const threads = {};
  const files = result.outputFiles.map((file) => {
    const from = entryOf.get(file.path);
    if (from === entry) return { path: bundle, contents: file.contents };
    const thread = Object.keys(threadSources).find((t) => threadSources[t] === from);
    if (thread) threads[thread] = path.basename(file.path);
    return file;
  });
  files.sort((a, b) => Number(a.path === bundle) - Number(b.path === bundle));
  for (const file of files) {
    if (file.path !== bundle && existsSync(file.path)) continue;
    writeFileSync(file.path + unique, file.contents);
    renameSync(file.path + unique, file.path);
  }
  writeFileSync(manifest + unique, JSON.stringify({ build: BUILD, inputs, threads }));
  renameSync(manifest + unique, manifest);
}

/** The npm dependencies of bridge-server and shared, which stay outside the bundle (BUNDLED_PACKAGES aside). */
function externalPackages(from) {
  const names = new Set();
  for (const pkg of ['../../package.json', '../../../shared/package.json']) {
    const json = JSON.parse(readFileSync(path.join(from, pkg), 'utf8'));
    for (const name of Object.keys({ ...json.dependencies, ...json.devDependencies, ...json.peerDependencies })) {
      if (!name.startsWith('@wa-bridge/') && !BUNDLED_PACKAGES.has(name)) names.add(name);
    }
  }
  return [...names];
}
