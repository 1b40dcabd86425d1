import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [react()],
  // No SPA fallback: a missing model file must be a 404, not index.html served as config.json.
  appType: 'mpa',
  publicDir: '../../public',
  build: { target: 'es2022', sourcemap: true },
  worker: { format: 'es' },
  server: { port: Number(process.env.PORT ?? 5173), host: '127.0.0.1' },
  preview: { port: Number(process.env.PORT ?? 5173), host: '127.0.0.1', strictPort: true },
});
