import { readFileSync } from 'node:fs';
import path from 'node:path';
import { defineConfig } from 'vite';

/**
 * Development only: Outlook and Teams load add-ins and tabs over https, and the bridge speaks plain
 * http. `npm run dev:https` runs Vite's preview server as a TLS front on https://localhost:3000 that
 * passes every request (pages, API, event stream) to the bridge. Production puts the bridge behind
 * the firm's own TLS reverse proxy instead. See README, "Outlook add-in and Teams tab".
 */
const repo = path.resolve(import.meta.dirname, '..');
const certDir = process.env.WA_BRIDGE_DEV_TLS_DIR ?? path.join(repo, 'data', 'dev-tls');
const bridge = process.env.WA_BRIDGE_DEV_BRIDGE_URL ?? 'http://127.0.0.1:3080';

function read(file: string): Buffer {
  try {
    return readFileSync(path.join(certDir, file));
  } catch {
    throw new Error(`dev:https: ${path.join(certDir, file)} is missing; create the development certificate first (README, "Outlook add-in and Teams tab").`);
  }
}

export default defineConfig({
  root: import.meta.dirname,
  build: { outDir: path.join(import.meta.dirname, 'dist') },
  preview: {
    host: 'localhost',
    port: 3000,
    strictPort: true,
    https: { key: read('localhost.key'), cert: read('localhost.crt') },
    proxy: { '/': { target: bridge, changeOrigin: false, xfwd: true } },
  },
});
