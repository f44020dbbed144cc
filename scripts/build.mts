// Bundle src/cli.ts and its dependencies into one CommonJS file, dist/wsx.cjs.

import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

await build({
  entryPoints: ['src/cli.ts'],
  outfile: 'dist/wsx.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  define: { WSX_VERSION: JSON.stringify(pkg.version) },
  // ws loads these native helpers only if present; they are optional and not bundled.
  external: ['bufferutil', 'utf-8-validate'],
  logLevel: 'warning',
});
