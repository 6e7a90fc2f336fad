#!/usr/bin/env node
// The wa-bridge command. The sources are TypeScript; tsx compiles them on load, so the command
// works straight after `npm ci` with no build step.
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Changing how the bundle is made changes this, so bundles made before are rebuilt.
const BUILD = 'parse-export bundle v1';

const command = process.argv[2];
const { main } = command === 'parse-export' ? await loadParseExport() : await loadWithTsx(command);
await main(process.argv);

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
 * parse-export starts from one JavaScript file bundled from its sources, kept in
 * node_modules/.cache and rebuilt when any source changes: starting through tsx costs its loader
 * thread and a round trip per module, about a third of a second, which other tools would pay on
 * every file. Anything that stops the bundle (no esbuild, a read-only tree) falls back to tsx.
 */
async function loadParseExport() {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const cache = path.join(here, '../node_modules/.cache/wa-bridge');
  const bundle = path.join(cache, 'parse-export.mjs');
  const manifest = path.join(cache, 'parse-export.json');
  try {
    if (!isFresh(manifest)) build(path.join(here, '../src/cli/parse-export-entry.ts'), cache, bundle, manifest);
    return await import(pathToFileURL(bundle).href);
  } catch {
    return loadWithTsx('parse-export');
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

/** Bundles our own modules (workspace packages included) into one file; npm packages stay imports. */
function build(entry, cache, bundle, manifest) {
  // esbuild comes with tsx, which this command depends on.
  const require = createRequire(createRequire(import.meta.url).resolve('tsx/package.json'));
  const esbuild = require('esbuild');
  const result = esbuild.buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    metafile: true,
    outfile: bundle,
    logLevel: 'silent',
    absWorkingDir: process.cwd(),
    // Bare imports that are not our workspace packages are left for Node to resolve.
    external: externalPackages(path.dirname(entry)),
  });
  const root = process.cwd();
  const inputs = {};
  for (const input of Object.keys(result.metafile.inputs)) {
    const file = path.resolve(root, input);
    const info = statSync(file);
    inputs[file] = `${info.size}:${info.mtimeMs}`;
  }
  mkdirSync(cache, { recursive: true });
  // Written aside and renamed: processes starting together never read half a file.
  const unique = `.${process.pid}.${Date.now()}`;
  writeFileSync(bundle + unique, result.outputFiles[0].contents);
  renameSync(bundle + unique, bundle);
  writeFileSync(manifest + unique, JSON.stringify({ build: BUILD, inputs }));
  renameSync(manifest + unique, manifest);
}

/** The npm dependencies of bridge-server and shared, which stay outside the bundle. */
function externalPackages(from) {
  const names = new Set();
  for (const pkg of ['../../package.json', '../../../shared/package.json']) {
    const json = JSON.parse(readFileSync(path.join(from, pkg), 'utf8'));
    for (const name of Object.keys({ ...json.dependencies, ...json.devDependencies, ...json.peerDependencies })) {
      if (!name.startsWith('@wa-bridge/')) names.add(name);
    }
  }
  return [...names];
}
