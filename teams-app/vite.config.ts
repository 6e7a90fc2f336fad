import react from '@vitejs/plugin-react';
import path from 'node:path';
import { defineConfig } from 'vite';

// Served by the bridge under /teams/ (see bridge-server/src/api/static-ui.ts); the manifest's
// static and configurable tabs point at index.html.
const root = import.meta.dirname;

export default defineConfig({
  root,
  base: '/teams/',
  plugins: [react()],
  build: {
    outDir: path.join(root, 'dist'),
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
    rolldownOptions: {
      input: { tab: path.join(root, 'index.html') },
    },
  },
});
