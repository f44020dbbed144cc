#!/usr/bin/env node
// The wsx command: answers --version itself, else runs dist/wsx.cjs through a V8 code cache.

const argv = process.argv;
if (argv.length === 3 && argv[2] === '--version') {
  // The commonest scripted call: nothing else loads (not even process.stdout's stream).
  try {
    require('node:fs').writeSync(1, `${require('../package.json').version}\n`);
  } catch {
    // stdout closed: nothing to say it on.
  }
} else {
  run();
}

/**
 * Compiling the 400 KB bundle is most of wsx's start-up. V8 can skip it with a code cache made
 * after a run (so it holds the functions that kind of run needed, not just the top level), kept
 * per kind of run in $XDG_CACHE_HOME/wsx. It is used only for the same bundle (its build hash,
 * size and mtime) and the same Node; V8 verifies the rest, including a checksum (the flag below),
 * and a stale, corrupt or rejected cache is rewritten at exit.
 */
function run() {
  const fs = require('node:fs');
  const path = require('node:path');
  const file = path.join(__dirname, '..', 'dist', 'wsx.cjs');
  const base =
    process.env.XDG_CACHE_HOME || (process.env.HOME && path.join(process.env.HOME, '.cache'));
  if (!base || process.env.WSX_NO_CODE_CACHE) return require(file);
  const debug = process.env.WSX_CODE_CACHE_DEBUG
    ? (s) => process.stderr.write(`code cache: ${s}\n`)
    : () => {};
  const source = fs.readFileSync(file, 'utf8');
  const stat = fs.statSync(file);
  const key = `wsx-code-cache 1 ${/^\/\/ wsx (\S+)/.exec(source)?.[1]} ${stat.size} ${stat.mtimeMs}\n`;
  const a = argv.slice(2);
  const kind = a.some((x) => x === '-h' || x === '--help')
    ? 'help'
    : a.some((x) => x === '-l' || x.startsWith('--listen'))
      ? 'listen'
      : a.some((x) => x === '-x' || x.startsWith('--execute'))
        ? 'execute'
        : isTerminal(fs)
          ? 'repl'
          : 'pipe';
  const cacheFile = path.join(base, 'wsx', `${kind}-${process.version}-${process.arch}.bin`);
  let cached;
  try {
    const data = fs.readFileSync(cacheFile);
    if (data.subarray(0, key.length).toString('latin1') === key) cached = data.subarray(key.length);
    else debug('stale');
  } catch {
    debug('missing');
  }
  // Checksum creation and verification of code caches (on by default only in V8 debug builds):
  // a damaged file is rejected instead of deserialized.
  require('node:v8').setFlagsFromString('--verify-snapshot-checksum');
  const vm = require('node:vm');
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  const script = new vm.Script(wrapped, { filename: file, cachedData: cached });
  if (cached && script.cachedDataRejected) debug('rejected');
  else if (cached) debug('used');
  if (!cached || script.cachedDataRejected) {
    process.once('exit', () => {
      try {
        const data = script.createCachedData();
        fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
        const tmp = `${cacheFile}.${process.pid}`;
        fs.writeFileSync(tmp, Buffer.concat([Buffer.from(key, 'latin1'), data]));
        fs.renameSync(tmp, cacheFile);
        debug('written');
      } catch {
        // A read-only or full disk costs only speed.
      }
    });
  }
  const mod = { exports: {}, filename: file, id: file, loaded: false };
  const req = require('node:module').createRequire(file);
  script.runInThisContext()(mod.exports, req, mod, file, path.dirname(file));
}

function isTerminal(fs) {
  try {
    return fs.fstatSync(0).isCharacterDevice();
  } catch {
    return false;
  }
}
