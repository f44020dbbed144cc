// npm run build:binary → dist/wsx (dist/wsx.exe on Windows): a standalone executable made with
// Node's single executable applications (SEA) and postject, embedding Node 24 LTS.
// pkg, named on the original design card, is archived and cannot build offline; SEA replaces it.
//
//   1. bundle (dist/wsx.cjs), 2. a SEA blob (main: bin/wsx.js, the bundle an asset), made by
//      that same Node 24,
//   3. copy Node 24, strip its symbols, 4. inject the blob, 5. (macOS) re-sign ad hoc.

import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const NODE_MAJOR = process.env.WSX_SEA_NODE ?? '24';
const platform = process.platform;
const out = join(root, 'dist', platform === 'win32' ? 'wsx.exe' : 'wsx');
const blob = join(root, 'dist', 'sea-prep.blob');
const config = join(root, 'dist', 'sea-config.json');
const npx = platform === 'win32' ? 'npx.cmd' : 'npx';

const run = (cmd: string, args: string[], opts: { capture?: boolean } = {}) =>
  execFileSync(cmd, args, {
    cwd: root,
    stdio: opts.capture ? ['ignore', 'pipe', 'inherit'] : 'inherit',
    encoding: 'utf8',
    shell: platform === 'win32',
  });

run('npm', ['run', 'build', '--silent']);

// The Node that runs the program must be the one that made the blob (the code cache is tied to it).
const nodePath = realpathSync(
  run(npx, ['-y', '-p', `node@${NODE_MAJOR}`, '--', 'node', '-p', 'process.execPath'], {
    capture: true,
  }).trim(),
);
const nodeVersion = run(nodePath, ['--version'], { capture: true }).trim();
console.log(`embedding Node ${nodeVersion} from ${nodePath}`);

// The main script is bin/wsx.js, as for `node bin/wsx.js`: it answers --version and runs the
// bundle (an asset) through a code cache made after the first run of each kind, in the user's
// cache directory (the SEA's own code cache holds only what compiles eagerly, the top level).
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
writeFileSync(join(root, 'dist', 'sea-version.txt'), `${pkg.version}\n`);
writeFileSync(
  config,
  JSON.stringify(
    {
      main: 'bin/wsx.js',
      output: 'dist/sea-prep.blob',
      // The bundle, and the lazily loaded sub-bundles (dist/lazy/), travel inside as assets.
      assets: {
        'wsx.cjs': 'dist/wsx.cjs',
        version: 'dist/sea-version.txt',
        ...Object.fromEntries(
          readdirSync(join(root, 'dist', 'lazy')).map((f) => [`lazy/${f}`, `dist/lazy/${f}`]),
        ),
      },
      useCodeCache: true,
      disableExperimentalSEAWarning: true,
    },
    null,
    2,
  ),
);
run(nodePath, ['--experimental-sea-config', config]);

rmSync(out, { force: true });
copyFileSync(nodePath, out);
chmodSync(out, 0o755);
if (platform === 'linux') run('strip', ['--strip-all', out]);
if (platform === 'darwin') run('codesign', ['--remove-signature', out]);

const postject = [
  'postject',
  out,
  'NODE_SEA_BLOB',
  blob,
  '--sentinel-fuse',
  'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2',
];
if (platform === 'darwin') postject.push('--macho-segment-name', 'NODE_SEA');
run(npx, ['--no-install', ...postject]);
if (platform === 'darwin') run('codesign', ['--sign', '-', out]);

rmSync(blob, { force: true });
console.log(`built ${out} (${(statSync(out).size / 1024 / 1024).toFixed(1)} MiB)`);
