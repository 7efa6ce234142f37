import { defineConfig } from 'tsup'

export default defineConfig({
  entry: { index: 'src/index.ts', 'bt-seeder': 'src/bt-seeder.ts', 'run-demo': 'src/run-demo.ts' },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts' } },
  clean: true,
  sourcemap: true,
  target: 'node20',
  // For the two programs; harmless on the library entry.
  banner: { js: '#!/usr/bin/env node' },
})
