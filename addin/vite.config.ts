import react from '@vitejs/plugin-react';
import path from 'node:path';
import { defineConfig } from 'vite';

// Served by the bridge under /addin/ (see bridge-server/src/api/static-ui.ts); the manifest's
// SourceLocation and FunctionFile point at the two pages below.
const root = import.meta.dirname;

export default defineConfig({
  root,
  base: '/addin/',
  plugins: [react()],
  // Build-time settings for nested app authentication (see README); absent, Office SSO is used.
  envPrefix: 'WA_BRIDGE_UI_',
  build: {
    outDir: path.join(root, 'dist'),
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
    rolldownOptions: {
      input: {
        taskpane: path.join(root, 'index.html'),
        commands: path.join(root, 'commands.html'),
      },
    },
  },
});
