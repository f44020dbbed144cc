// Bundle src/cli.ts and its dependencies into one CommonJS file, dist/wsx.cjs, and write
// THIRD-PARTY-LICENSES for exactly the packages esbuild put in the bundle.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { brotliCompressSync } from 'node:zlib';
import { build, type Metafile, type Plugin } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };

const external = ['bufferutil', 'utf-8-validate'];

/**
 * Packages needed only on rare paths (hidden prompts, proxies) go into the one bundle as a string
 * holding their own sub-bundle, compiled on first require. V8 then scans a string literal at
 * start-up instead of parsing ~140 KB of code that most runs never call.
 */
const LAZY = [
  'enquirer',
  'https-proxy-agent',
  'socks-proxy-agent',
  // --decode / --encode / --filter (src/views/)
  '@msgpack/msgpack',
  'cbor-x/index-no-eval',
  'protobufjs',
  'jq-web',
  // --dialect socketio (src/dialects/socketio-codec.ts): both parser generations
  'engine.io-parser',
  'engine.io-parser-v2',
  'socket.io-parser',
  'socket.io-parser-v3',
  // --dialect mqtt (src/dialects/mqtt.ts)
  'mqtt-packet',
];

/**
 * jq-web reads jq.wasm from its own folder at run time: hand it the module inline instead
 * (brotli + base64 inside the lazy string), so the bundle and the binary work with no files.
 */
const inlineJqWasm: Plugin = {
  name: 'inline-jq-wasm',
  setup(b) {
    b.onLoad({ filter: /[\\/]jq-web[\\/]jq\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const wasm = brotliCompressSync(readFileSync(join(args.path, '..', 'jq.wasm'))).toString(
        'base64',
      );
      const call = 'jq = jq().then(';
      if (!source.includes(call)) throw new Error('jq-web changed: cannot inline jq.wasm');
      const binary = `require('node:zlib').brotliDecompressSync(Buffer.from(${JSON.stringify(wasm)}, 'base64'))`;
      // The lazy sub-bundle runs as a plain function: emscripten's look at __dirname needs one.
      const contents = `var __dirname = '/', __filename = '/jq.js';\n${source.replace(call, `jq = jq({ wasmBinary: ${binary} }).then(`)}`;
      return { contents, loader: 'js' };
    });
  },
};
const lazyMetafiles: Metafile[] = [];
/** dist/lazy/<file>: the sub-bundles, written after the build. */
const lazyFiles = new Map<string, string>();
const requireFromRoot = createRequire(join(root, 'package.json'));
/**
 * commander requires node:child_process at its top for executable subcommands, which wsx never
 * uses: that pulls child_process, dgram and their internals into every start-up. Defer it to
 * first use (a patch of one line; the build fails if the line is gone, so an update is noticed).
 */
const lazyChildProcessInCommander: Plugin = {
  name: 'lazy-child-process-in-commander',
  setup(b) {
    b.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const line = "const childProcess = require('node:child_process');";
      if (!text.includes(line)) throw new Error(`commander changed: '${line}' not found`);
      const lazy =
        "let loadedChildProcess; const childProcess = new Proxy({}, { get: (_, key) => (loadedChildProcess ??= require('node:child_process'))[key] });";
      return { contents: text.replace(line, lazy), loader: 'js' };
    });
  },
};

/**
 * ws requires node:https and node:tls at its top, so a ws:// run would load TLS (and its share of
 * node:crypto) for nothing: about 1.5 ms of start-up. Load each where ws uses it, for wss:// only.
 * The build fails if a line is gone, so a ws update is noticed; test/e2e/startup.test.ts
 * checks that a ws:// run loads neither and a wss:// run works.
 */
const lazyTlsInWs: Plugin = {
  name: 'lazy-tls-in-ws',
  setup(b) {
    b.onLoad({ filter: /[\\/]ws[\\/]lib[\\/]websocket\.js$/ }, (args) => {
      let text = readFileSync(args.path, 'utf8');
      const patches: Array<[string, string, string]> = [
        [
          "const https = require('https');",
          "let loadedHttps; const https = { get request() { return (loadedHttps ??= require('https')).request; } };",
          'isSecure ? https.request : http.request',
        ],
        [
          "const tls = require('tls');",
          "let loadedTls; const tls = { connect: (options) => (loadedTls ??= require('tls')).connect(options) };",
          'return tls.connect(options);',
        ],
      ];
      for (const [line, lazy, use] of patches) {
        if (!text.includes(line) || !text.includes(use)) {
          throw new Error(`ws changed: '${line}' or '${use}' not found`);
        }
        text = text.replace(line, lazy);
      }
      // Nothing else of either module may be used: the stand-ins have only these members.
      const rest = text.replace(/https\.request|tls\.connect\(/g, '');
      if (/\b(https|tls)\.[a-zA-Z]/.test(rest.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, ''))) {
        throw new Error('ws changed: it uses more of node:https or node:tls than request/connect');
      }
      return { contents: text, loader: 'js' };
    });
  },
};

/**
 * ws's `require('crypto')` → src/crypto-lite.ts (random bytes from the OS, SHA-1 in JS): a ws://
 * run then never loads node:crypto (2–4 ms). The build fails if ws uses more of it than that.
 */
const liteCryptoInWs: Plugin = {
  name: 'lite-crypto-in-ws',
  setup(b) {
    const lib = join(root, 'node_modules', 'ws', 'lib');
    const allowed = new Set(['randomBytes', 'createHash', 'randomFillSync']);
    for (const f of readdirSync(lib)) {
      const text = readFileSync(join(lib, f), 'utf8');
      for (const m of text.matchAll(/require\((['"])(?:node:)?crypto\1\)/g)) {
        const line = text.slice(text.lastIndexOf('\n', m.index) + 1, text.indexOf('\n', m.index));
        const names = /^const \{([^}]*)\} = require/
          .exec(line)?.[1]
          ?.split(',')
          .map((n) => n.trim());
        if (!names || names.some((n) => !allowed.has(n))) {
          throw new Error(`ws changed: ${f} uses node:crypto as '${line.trim()}'`);
        }
      }
    }
    b.onResolve({ filter: /^(node:)?crypto$/ }, (args) =>
      /[\\/]ws[\\/]lib[\\/]/.test(args.importer)
        ? { path: join(root, 'src', 'crypto-lite.ts') }
        : undefined,
    );
  },
};

/**
 * ws's permessage-deflate loads node:zlib when it is first used (1.5–2 ms of every start-up
 * otherwise), through a stand-in that forwards every member.
 */
const lazyZlibInWs: Plugin = {
  name: 'lazy-zlib-in-ws',
  setup(b) {
    b.onLoad({ filter: /[\\/]ws[\\/]lib[\\/]permessage-deflate\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const line = "const zlib = require('zlib');";
      if (!text.includes(line)) throw new Error(`ws changed: '${line}' not found`);
      const lazy =
        "let loadedZlib; const zlib = new Proxy({}, { get: (_, key) => (loadedZlib ??= require('zlib'))[key] });";
      return { contents: text.replace(line, lazy), loader: 'js' };
    });
  },
};

/**
 * ws's Receiver.consume(n) makes two Buffer views per call when it takes part of a chunk: the
 * bytes taken and a new view of the rest, stored back as the first chunk. A frame is two calls
 * (header, payload), so a flood of small messages made four views per message, most of the
 * allocation of receiving. The patched consume keeps an offset into the first chunk instead and
 * makes only the view it returns (the same bytes, the same sharing of the chunk's memory). The
 * build fails if either patched text changes, so an update of ws is looked at.
 */
const offsetConsumeInWs: Plugin = {
  name: 'offset-consume-in-ws',
  setup(b) {
    b.onLoad({ filter: /[\\/]ws[\\/]lib[\\/]receiver\.js$/ }, (args) => {
      let text = readFileSync(args.path, 'utf8');
      const init = '    this._bufferedBytes = 0;\n    this._buffers = [];\n';
      const start = text.indexOf('  consume(n) {\n');
      const end = text.indexOf('\n  }\n', start);
      const original = start < 0 || end < 0 ? '' : text.slice(start, end + 4);
      if (!text.includes(init) || !original.includes('this._buffers[0] = new FastBuffer('))
        throw new Error('ws changed: Receiver.consume or its buffers are not as patched');
      if (original.split('\n').length !== 38)
        throw new Error('ws changed: Receiver.consume is not the one patched');
      text = text.replace(init, `${init}    this._offset = 0;\n`);
      text = text.replace(original, CONSUME);
      return { contents: text, loader: 'js' };
    });
  },
};
const CONSUME = `  consume(n) {
    this._bufferedBytes -= n;
    const first = this._buffers[0];
    const off = this._offset;
    const left = first.length - off;
    if (n < left) {
      this._offset = off + n;
      return new FastBuffer(first.buffer, first.byteOffset + off, n);
    }
    if (n === left) {
      this._buffers.shift();
      this._offset = 0;
      return off === 0 ? first : new FastBuffer(first.buffer, first.byteOffset + off, n);
    }
    const dst = Buffer.allocUnsafe(n);
    let at = 0;
    let from = off;
    do {
      const buf = this._buffers[0];
      const have = buf.length - from;
      if (n >= have) {
        dst.set(from === 0 ? buf : new Uint8Array(buf.buffer, buf.byteOffset + from, have), at);
        this._buffers.shift();
        at += have;
        n -= have;
        from = 0;
      } else {
        dst.set(new Uint8Array(buf.buffer, buf.byteOffset + from, n), at);
        from += n;
        n = 0;
      }
    } while (n > 0);
    this._offset = from;
    return dst;
  }
`;

const lazyModules: Plugin = {
  name: 'lazy-modules',
  setup(b) {
    // The one reader of lazy files: dist/lazy/ next to the bundle, or the binary's assets.
    b.onResolve({ filter: /^wsx:lazy-reader$/ }, () => ({
      path: 'reader',
      namespace: 'lazy-reader',
    }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-reader' }, () => ({
      loader: 'js',
      contents: `let sea;
try { sea = require('node:sea'); } catch {}
exports.readLazy = (file) =>
  sea && sea.isSea && sea.isSea()
    ? sea.getAsset('lazy/' + file, 'utf8')
    : require('node:fs').readFileSync(require('node:path').join(__dirname, 'lazy', file), 'utf8');`,
    }));
    b.onResolve({ filter: new RegExp(`^(${LAZY.join('|')})$`) }, (args) => ({
      path: args.path,
      namespace: 'lazy',
    }));
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, async (args) => {
      const sub = await build({
        absWorkingDir: root,
        entryPoints: [requireFromRoot.resolve(args.path)],
        bundle: true,
        platform: 'node',
        format: 'cjs',
        target: 'node20',
        minify: true,
        legalComments: 'none',
        metafile: true,
        write: false,
        supported: { 'dynamic-import': false },
        external,
        plugins: [inlineJqWasm],
      });
      lazyMetafiles.push(sub.metafile);
      const code = `(function (exports, require, module) {${sub.outputFiles[0]?.text ?? ''}\n})`;
      // A file of its own next to the bundle (an asset inside the standalone binary): the main
      // bundle stays small, so every start-up reads and compiles less (issue 10).
      const file = `${args.path.replace(/[^A-Za-z0-9.-]+/g, '_')}.cjs`;
      lazyFiles.set(file, code);
      return {
        loader: 'js',
        contents: `const { readLazy } = require('wsx:lazy-reader');
const fn = require('node:vm').runInThisContext(readLazy(${JSON.stringify(file)}), { filename: 'wsx:${args.path}' });
fn(module.exports, require, module);`,
      };
    });
  },
};

const result = await build({
  absWorkingDir: root,
  entryPoints: ['src/cli.ts'],
  outfile: 'dist/wsx.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  metafile: true,
  define: { WSX_VERSION: JSON.stringify(pkg.version) },
  // import() becomes a require: bin/wsx.js runs the bundle as a vm.Script (for its code cache),
  // which has no ESM loader; a plain require is cheaper at start-up anyway.
  supported: { 'dynamic-import': false },
  // ws loads these native helpers only if present; they are optional and not bundled.
  external,
  plugins: [
    lazyModules,
    lazyChildProcessInCommander,
    lazyTlsInWs,
    lazyZlibInWs,
    liteCryptoInWs,
    offsetConsumeInWs,
  ],
  logLevel: 'warning',
});

const lazyDir = join(root, 'dist', 'lazy');
rmSync(lazyDir, { recursive: true, force: true });
mkdirSync(lazyDir, { recursive: true });
for (const [file, code] of lazyFiles) writeFileSync(join(lazyDir, file), code);

// The first line names this build (a hash of its content): bin/wsx.js keys its code cache on it.
const bundlePath = join(root, 'dist', 'wsx.cjs');
const bundle = readFileSync(bundlePath, 'utf8');
// bin/wsx.js reads the bundle as latin1 (faster than utf8): that is only right for ASCII.
if (/[^\x00-\x7f]/.test(bundle)) throw new Error('dist/wsx.cjs is not ASCII (esbuild charset)');
const buildHash = createHash('sha256').update(bundle).digest('hex').slice(0, 16);
writeFileSync(bundlePath, `// wsx ${buildHash}\n${bundle}`);

/** node_modules/<name> or node_modules/@scope/<name> for every bundled input. */
const packages = new Set<string>();
for (const input of [result.metafile, ...lazyMetafiles].flatMap((m) => Object.keys(m.inputs))) {
  const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (m?.[1]) packages.add(m[1]);
}

const MIT = `MIT License

Copyright (c) <holder>

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
associated documentation files (the "Software"), to deal in the Software without restriction,
including without limitation the rights to use, copy, modify, merge, publish, distribute,
sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT
NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT
OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.`;

const sections: string[] = [];
for (const name of [...packages].sort()) {
  const dir = join(root, 'node_modules', name);
  const meta = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    version: string;
    license?: string;
    author?: string | { name?: string };
  };
  const file = readdirSync(dir).find((f) => /^(licen[sc]e|copying)(\.|$)/i.test(f));
  let text: string;
  if (file) text = readFileSync(join(dir, file), 'utf8').trim();
  else if (meta.license === 'MIT') {
    // Some packages declare MIT but ship no LICENSE file: include the MIT terms they declare.
    const author =
      typeof meta.author === 'string' ? meta.author : (meta.author?.name ?? `the ${name} authors`);
    text = MIT.replace('<holder>', author);
  } else throw new Error(`${name} has no license file and is not MIT: cannot ship it`);
  sections.push(`${name}@${meta.version} — ${meta.license ?? 'see below'}\n\n${text}\n`);
}
const header = `wsx bundles the following packages into dist/wsx.cjs (and the standalone binary).\nTheir licenses follow.\n`;
writeFileSync(
  join(root, 'THIRD-PARTY-LICENSES'),
  `${header}\n${'='.repeat(72)}\n${sections.join(`\n${'='.repeat(72)}\n`)}`,
);
if (!existsSync(join(root, 'dist', 'wsx.cjs'))) throw new Error('build produced no bundle');
