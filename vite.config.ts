import { defineConfig } from 'vite';

/** Builds the editor (index.html → src/editor/main.ts) into dist-editor/, which the server serves at `/`. */
export default defineConfig({
  root: '.',
  publicDir: false,
  build: {
    outDir: 'dist-editor',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    host: '127.0.0.1',
    proxy: {
      '/api': 'http://127.0.0.1:8188',
      '/ws': { target: 'ws://127.0.0.1:8188', ws: true },
    },
  },
});
