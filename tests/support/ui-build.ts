import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Vitest global setup: the browser suites load the add-in and the Teams tab as the bridge serves
 * them, so build both once before any test file runs, and only when a source is newer than the
 * bundle (a run that touches no front-end file pays a few stat calls).
 */
const repo = path.resolve(import.meta.dirname, '../..');
// The recipe below is a source too: changing how the bundles are built rebuilds them.
const sources = ['tests/support/ui-build.ts', 'addin/src', 'addin/index.html', 'addin/commands.html', 'addin/public', 'addin/vite.config.ts', 'teams-app/src', 'teams-app/index.html', 'teams-app/vite.config.ts', 'shared/ui', 'shared/src'];
const outputs = ['addin/dist/index.html', 'teams-app/dist/index.html'];

function newestMtime(entry: string): number {
  const stat = statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(entry).map((name) => newestMtime(path.join(entry, name))));
}

export default function setup(): void {
  const built = outputs.map((file) => path.join(repo, file));
  const builtAt = built.every((file) => existsSync(file)) ? Math.min(...built.map((file) => statSync(file).mtimeMs)) : 0;
  const changedAt = Math.max(...sources.map((entry) => path.join(repo, entry)).filter((entry) => existsSync(entry)).map(newestMtime));
  if (builtAt > changedAt) return;
  // Production bundles, as `npm start` builds them: vitest sets NODE_ENV to "test", which would give
  // React's development build (StrictMode running every effect twice, dev-only warnings).
  const result = spawnSync('npm', ['run', 'build:ui'], { cwd: repo, encoding: 'utf8', env: { ...process.env, NODE_ENV: 'production' } });
  if (result.status !== 0) throw new Error(`npm run build:ui failed:\n${result.stdout}\n${result.stderr}`);
}

/**
 * The task pane built as a firm would build it for nested app authentication (the app
 * registration's client id and API scope given at build time), into `outDir`.
 */
export function buildAddinWith(outDir: string, settings: { clientId: string; apiScope: string }): void {
  const result = spawnSync('npx', ['vite', 'build', '--config', 'addin/vite.config.ts', '--outDir', outDir, '--emptyOutDir'], {
    cwd: repo,
    encoding: 'utf8',
    // A production build, as a firm's would be (vitest's own NODE_ENV is "test").
    env: { ...process.env, NODE_ENV: 'production', WA_BRIDGE_UI_CLIENT_ID: settings.clientId, WA_BRIDGE_UI_API_SCOPE: settings.apiScope },
  });
  if (result.status !== 0) throw new Error(`building the add-in for nested app authentication failed:\n${result.stdout}\n${result.stderr}`);
}
