#!/usr/bin/env node
// The wsx command: answers --version itself, else runs dist/wsx.cjs through a V8 code cache.

// It is also the main script of the standalone binary (scripts/build-binary.mts), where the
// bundle and the version are assets of the executable instead of files.

const fs = require('node:fs');
const argv = process.argv;
// In a single executable the main script's __filename is the executable itself.
const sea = __filename === process.execPath ? require('node:sea') : undefined;
if (argv.length === 3 && argv[2] === '--version') {
  // The commonest scripted call: nothing else loads (not even process.stdout's stream).
  const pkg = sea
    ? `"version": "${sea.getAsset('version', 'utf8').trim()}"`
    : fs.readFileSync(`${__dirname}/../package.json`, 'latin1');
  write(Buffer.from(`${/"version":\s*"([^"]+)"/.exec(pkg)?.[1]}\n`));
} else {
  run();
}

/** The bundle (ASCII), or its first `bytes` bytes, from the binary's asset or dist/wsx.cjs. */
function bundleSource(fd, bytes) {
  if (sea) {
    const raw = sea.getRawAsset ? sea.getRawAsset('wsx.cjs') : sea.getAsset('wsx.cjs');
    return Buffer.from(raw, 0, bytes).latin1Slice();
  }
  if (bytes === undefined) return fs.readFileSync(fd, 'latin1');
  const head = Buffer.alloc(bytes);
  return head.latin1Slice(0, fs.readSync(fd, head, 0, bytes, 0));
}

/**
 * Compiling the bundle is most of wsx's start-up. V8 can skip it with a code cache made after a
 * run (so it holds the functions that kind of run needed, not just the top level), kept per kind
 * of run in $XDG_CACHE_HOME/wsx. It is used only for the same bundle (its build hash, size and
 * mtime) and the same Node, and only if its SHA-1 (next to the key) matches; V8 verifies the
 * rest, and a stale, corrupt or rejected cache is rewritten at exit. `wsx --help` alone prints the text the
 * same bundle printed before, for the same terminal width, without loading the bundle at all.
 */
function run() {
  const path = require('node:path');
  const file = sea ? process.execPath : path.join(__dirname, '..', 'dist', 'wsx.cjs');
  const env = process.env;
  const base = env.XDG_CACHE_HOME || (env.HOME && path.join(env.HOME, '.cache'));
  if (!base || env.WSX_NO_CODE_CACHE) {
    if (!sea) return require(file);
    return runBundle(bundleSource(), file, undefined, () => {});
  }
  const debug = env.WSX_CODE_CACHE_DEBUG ? (s) => fs.writeSync(2, `code cache: ${s}\n`) : () => {};
  const dir = path.join(base, 'wsx');
  // The key is in the bundle's first line: read that much first (--help may need no more). In
  // the binary, the executable's size and mtime stand for the bundle's.
  const fd = sea ? undefined : fs.openSync(file, 'r');
  const stat = sea ? fs.statSync(file) : fs.fstatSync(fd);
  const build = /^\/\/ wsx (\S+)/.exec(bundleSource(fd, 64))?.[1];
  const key = `wsx-code-cache 4 ${build} ${stat.size} ${stat.mtimeMs}\n`;
  const a = argv.slice(2);
  const kind = a.some((x) => x === '-h' || x === '--help')
    ? 'help'
    : a.some((x) => x === '-l' || x.startsWith('--listen'))
      ? 'listen'
      : a.some((x) => x === '-x' || x.startsWith('--execute'))
        ? 'execute'
        : isCharDevice(0)
          ? 'repl'
          : 'pipe';
  const onExit = [];
  const close = () => fd !== undefined && fs.closeSync(fd);
  if (a.length === 1 && kind === 'help' && helpFromCache(dir, key, onExit, debug)) {
    close();
    return;
  }
  // The bundle is ASCII (esbuild escapes the rest; the build checks): latin1 decodes it fastest.
  const source = bundleSource(fd);
  close();
  const where = sea ? 'sea-' : '';
  const cacheFile = path.join(dir, `${kind}-${where}${process.version}-${process.arch}.bin`);
  const stored = readKeyed(cacheFile, key);
  debug(stored ? 'found' : 'missing or stale');
  // A damaged file is rejected, never deserialized: V8 checks a code cache's checksum only in its
  // debug builds (the flag that turns it on loads node:v8, 2 ms). The check is zlib's CRC-32
  // (node:crypto would cost 2–4 ms to load; node:zlib costs 0.6–1 ms, see checksum).
  const cached = stored && checked(stored);
  // Only booleans go into the closures: a closure made here keeps this scope's captured variables
  // alive (V8 shares one context among them), and the cache's buffer is 250–300 KB of RSS.
  const found = stored !== undefined;
  const valid = cached !== undefined;
  runBundle(source, file, cached, (script) => {
    const rejected = found && (!valid || script.cachedDataRejected);
    if (found) debug(rejected ? 'rejected' : 'used');
    if (!found || rejected) {
      onExit.push(() => {
        const data = script.createCachedData();
        writeKeyed(cacheFile, key, Buffer.concat([Buffer.from(`${checksum(data)}\n`), data]));
      });
    }
    if (onExit.length > 0) {
      process.once('exit', () => {
        for (const f of onExit) f();
        debug('written');
      });
    }
  });
}

/** Compile the bundle as a CommonJS module (with `cached` V8 data, if any) and run it. */
function runBundle(source, file, cached, compiled) {
  const vm = require('node:vm');
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  const script = new vm.Script(wrapped, { filename: file, cachedData: cached });
  compiled(script);
  const mod = { exports: {}, filename: file, id: file, loaded: false };
  // This file's require: the bundle loads only builtins (and ws's optional add-ons, found from
  // bin/ as from dist/). node:module's createRequire would load the ESM loader, 1 ms.
  const dirname = require('node:path').dirname(file);
  script.runInThisContext()(mod.exports, require, mod, file, dirname);
}

/** The V8 data of a stored code cache if its checksum line matches it, else undefined. */
function checked(stored) {
  const nl = stored.indexOf(10);
  const data = stored.subarray(nl + 1);
  return nl === 16 && stored.latin1Slice(0, 16) === checksum(data) ? data : undefined;
}

/**
 * 16 hex digits that change when `data` is damaged or truncated (against accidents, not an
 * adversary: who could write the cache could write wsx): zlib's CRC-32 (native: 0.1 ms for 300 KB)
 * and the length. A hash in JS cost 4–6 ms here, and its loop was hot enough for V8 to start
 * TurboFan, whose code alone added 4 MiB to the RSS of every run. Node before 20.15 has no crc32:
 * the JS hash then.
 */
function checksum(data) {
  const zlib = require('node:zlib');
  const len = (data.length >>> 0).toString(16).padStart(8, '0');
  if (typeof zlib.crc32 === 'function') return zlib.crc32(data).toString(16).padStart(8, '0') + len;
  let a = 0x811c9dc5;
  for (let i = 0; i < data.length; i++) a = Math.imul(a ^ data[i], 0x01000193);
  return (a >>> 0).toString(16).padStart(8, '0') + len;
}

/** Print the cached help text (true), or arrange for this run's help text to be cached. */
function helpFromCache(dir, key, onExit, debug) {
  // Commander wraps help to the terminal's width; elsewhere to 80 columns.
  const width = isCharDevice(1) && process.stdout.isTTY ? process.stdout.columns : 0;
  const helpFile = `${dir}/help-${width}.txt`;
  const text = readKeyed(helpFile, key);
  if (text && write(text)) {
    debug('help text used');
    return true;
  }
  const out = [];
  const stdout = process.stdout;
  const original = stdout.write;
  stdout.write = function (chunk, ...rest) {
    out.push(Buffer.from(chunk));
    return original.call(this, chunk, ...rest);
  };
  onExit.push(() => {
    if (!process.exitCode && out.length > 0) writeKeyed(helpFile, key, Buffer.concat(out));
  });
  return false;
}

/** The bytes after `key` in `file`, if the file starts with it. */
function readKeyed(file, key) {
  try {
    const data = fs.readFileSync(file);
    if (data.latin1Slice(0, key.length) === key) return data.subarray(key.length);
  } catch {
    // Missing or unreadable: made again at exit.
  }
  return undefined;
}

function writeKeyed(file, key, data) {
  try {
    fs.mkdirSync(require('node:path').dirname(file), { recursive: true });
    // Whole or not at all: a concurrent run reads the old file or the new one, never a part.
    const tmp = `${file}.${process.pid}`;
    fs.writeFileSync(tmp, Buffer.concat([Buffer.from(key, 'latin1'), data]));
    fs.renameSync(tmp, file);
  } catch {
    // A read-only or full disk costs only speed.
  }
}

/** Write all of `data` to stdout; false if nothing could be written (then nothing was). */
function write(data) {
  let done = 0;
  try {
    while (done < data.length) done += fs.writeSync(1, data, done);
    return true;
  } catch {
    if (done === 0) return false;
    // Part went out (a non-blocking pipe filled up): the stream queues the rest.
    process.stdout.write(data.subarray(done));
    return true;
  }
}

function isCharDevice(fd) {
  try {
    return fs.fstatSync(fd).isCharacterDevice();
  } catch {
    return false;
  }
}
