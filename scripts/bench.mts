// npm run bench: wsx against a minimal raw ws client (and server) in the same run, on local echo
// servers with and without permessage-deflate, plus wscat 6 where it can do the job. Every figure
// is a ratio within this run; every output is checked (sha256 or byte count) so nothing was lost.
// Prints a markdown table. Not part of npm test. BENCH_RUNS (default 5) sets the repetitions.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const WSX = `${root}bin/wsx.js`;
const RAW = `${root}scripts/bench/raw-client.cjs`;
const RAW_SERVER = `${root}scripts/bench/raw-server.cjs`;
const LOAD = `${root}scripts/bench/load.cjs`;
const SERVER = `${root}scripts/bench/server.cjs`;
const WSCAT = `${root}node_modules/wscat/bin/wscat`;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const node = process.execPath;
const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const work = mkdtempSync(join(tmpdir(), 'wsx-bench-'));
// ws's optional native add-ons (bufferutil, utf-8-validate) are off for every process here (the
// servers too): wsx ships without them, and so does a client that depends on ws alone.
process.env.WS_NO_BUFFER_UTIL = '1';
process.env.WS_NO_UTF_8_VALIDATE = '1';
// A code cache of its own, so earlier runs on this machine do not help or hurt.
const env = { ...process.env, NO_COLOR: '1', XDG_CACHE_HOME: join(work, 'cache') };
delete (env as Record<string, string | undefined>).NODE_EXTRA_CA_CERTS;

interface Result {
  ms: number;
  rssKb: number;
  bytes: number;
  /** Newlines in stdout. */
  lines: number;
  sha: string;
  stdout: string;
}

interface RunOpts {
  /** A file to give as stdin; otherwise stdin is an open pipe that ends when the process does. */
  stdinFile?: string;
  /** stdin at EOF at once (an empty pipe). */
  emptyStdin?: boolean;
  /** Keep the first 4 KiB of stdout as text (start-up rows). */
  keepText?: boolean;
}

function run(cmd: string[], o: RunOpts = {}): Promise<Result> {
  // /usr/bin/time -f %M reports the peak RSS (KiB) of the measured process.
  const argv = timeBin ? [timeBin, '-f', '__RSS=%M', ...cmd] : cmd;
  const fd = o.stdinFile ? openSync(o.stdinFile, 'r') : undefined;
  const t0 = performance.now();
  const child: ChildProcess = spawn(argv[0] as string, argv.slice(1), {
    stdio: [fd ?? 'pipe', 'pipe', 'pipe'],
    env,
  });
  if (fd !== undefined) closeSync(fd);
  if (o.emptyStdin) child.stdin?.end();
  child.stdin?.on('error', () => {});
  const hash = createHash('sha256');
  let bytes = 0;
  let lines = 0;
  let text = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    bytes += d.length;
    for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, i + 1)) lines++;
    hash.update(d);
    if (o.keepText && text.length < 4096) text += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d;
  });
  const kill = setTimeout(() => child.kill('SIGKILL'), 180_000);
  return new Promise((resolve, reject) => {
    child.on('close', (code) => {
      clearTimeout(kill);
      const ms = performance.now() - t0;
      child.stdin?.destroy();
      if (code !== 0) return reject(new Error(`${cmd.join(' ')} exited ${code}: ${err}`));
      resolve({
        ms,
        rssKb: Number(/__RSS=(\d+)/.exec(err)?.[1] ?? 0),
        bytes,
        lines,
        sha: hash.digest('hex'),
        stdout: text,
      });
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Row {
  name: string;
  /** ms, or a throughput unit when `per` is set */
  unit: string;
  wsx: number;
  base: number;
  baseName: string;
  wsxRss: number;
  baseRss: number;
  higherIsBetter: boolean;
  target: string;
  /** Whether the ratio meets the target (undefined: informational). */
  ok?: (ratio: number) => boolean;
  note?: string;
  /** The baseline is wsx itself (another option): its RSS is not a target to stay under. */
  selfBaseline?: boolean;
}

const rows: Row[] = [];

interface Contender {
  name: string;
  cmd: string[];
}

/**
 * Run the contenders alternately (drift hits all alike), check each output, take medians.
 * `check` returns an error text for a wrong output. Returns the median ms and RSS per contender.
 */
async function measure(
  label: string,
  contenders: Contender[],
  o: RunOpts & { runs?: number; check?: (r: Result, who: string) => string | undefined },
): Promise<Array<{ ms: number; rssKb: number }>> {
  const results: Result[][] = contenders.map(() => []);
  const runs = o.runs ?? RUNS;
  // One round first that is not counted (checked all the same): the server's JIT and buffers
  // warm up on it, and no contender pays for being first in the row.
  for (const c of contenders) {
    const bad = o.check?.(await run(c.cmd, o), c.name);
    if (bad) throw new Error(`${label}: ${c.name}: ${bad}`);
  }
  for (let i = 0; i < runs; i++) {
    for (const [k, c] of contenders.entries()) {
      const r = await run(c.cmd, o);
      const bad = o.check?.(r, c.name);
      if (bad) throw new Error(`${label}: ${c.name}: ${bad}`);
      results[k]?.push(r);
    }
  }
  process.stderr.write(`  ${label}: done\n`);
  return results.map((rs) => ({
    ms: median(rs.map((r) => r.ms)),
    rssKb: median(rs.map((r) => r.rssKb)),
  }));
}

function sameAs(expected: string, bytes?: number) {
  return (r: Result) =>
    r.sha === expected
      ? undefined
      : `output differs from what was sent (${r.bytes} bytes${bytes ? ` of ${bytes}` : ''}): lost or reordered data`;
}

function startServer(args: string[]): Promise<{ url: string; stop: () => void }> {
  const server = spawn(node, [SERVER, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve) =>
    server.stdout?.once('data', (d) =>
      resolve({ url: `ws://127.0.0.1:${String(d).trim()}/`, stop: () => server.kill() }),
    ),
  );
}

function throughputRow(
  name: string,
  m: Array<{ ms: number; rssKb: number }>,
  per: number,
  unit: string,
  target: string,
  ok?: (ratio: number) => boolean,
  baseName = 'raw ws client',
): void {
  const [w, b] = m as [{ ms: number; rssKb: number }, { ms: number; rssKb: number }];
  rows.push({
    name,
    unit,
    wsx: per / (w.ms / 1000),
    base: per / (b.ms / 1000),
    baseName,
    wsxRss: w.rssKb,
    baseRss: b.rssKb,
    higherIsBetter: true,
    target,
    ok,
  });
}

function timeRow(
  name: string,
  w: { ms: number; rssKb: number },
  b: { ms: number; rssKb: number },
  baseName: string,
  target: string,
  ok?: (ratio: number) => boolean,
): void {
  rows.push({
    name,
    unit: 'ms',
    wsx: w.ms,
    base: b.ms,
    baseName,
    wsxRss: w.rssKb,
    baseRss: b.rssKb,
    higherIsBetter: false,
    target,
    ok,
  });
}

/** Lines of `n` messages of `size` bytes each (the line number, padded), as a file. */
function linesFile(name: string, n: number, size: number): { path: string; sha: string } {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(`${i}`.padStart(size, '.'));
  const data = Buffer.from(`${lines.join('\n')}\n`);
  const path = join(work, name);
  writeFileSync(path, data);
  return { path, sha: sha(data) };
}

async function pipeRows(url: string, deflate: boolean): Promise<void> {
  const server = deflate ? 'server with permessage-deflate' : 'server without permessage-deflate';
  const rawArgs = deflate ? ['--deflate'] : [];
  const small = linesFile('small.txt', 200_000, 64);
  const check = { stdinFile: small.path, check: sameAs(small.sha) };
  const contenders: Contender[] = [
    { name: 'wsx', cmd: [node, WSX, url, '--count', '200000'] },
    { name: 'raw', cmd: [node, RAW, url, 'pipe', '200000', ...rawArgs] },
  ];
  if (deflate)
    contenders.push({
      name: 'wsx --no-compress',
      cmd: [node, WSX, url, '--count', '200000', '--no-compress'],
    });
  const m = await measure(`pipe 64 B, ${server}`, contenders, check);
  throughputRow(
    `pipe 200,000 × 64 B lines, ${server}`,
    m,
    200_000,
    'msg/s',
    deflate ? '≥ 1.0×' : '≥ 1.15×',
    (r) => r >= (deflate ? 1.0 : 1.15),
  );
  if (deflate) {
    const nc = m[2] as { ms: number; rssKb: number };
    throughputRow(
      'the same: wsx offering compression vs wsx --no-compress',
      [m[0] as { ms: number; rssKb: number }, nc],
      200_000,
      'msg/s',
      '≥ 0.9×',
      (r) => r >= 0.9,
      'wsx --no-compress',
    );
    (rows[rows.length - 1] as Row).selfBaseline = true;
  }
  const large = linesFile('large.txt', 2000, 65535);
  const ml = await measure(
    `pipe 64 KiB, ${server}`,
    [
      { name: 'wsx', cmd: [node, WSX, url, '--count', '2000'] },
      { name: 'raw', cmd: [node, RAW, url, 'pipe', '2000', ...rawArgs] },
    ],
    { stdinFile: large.path, check: sameAs(large.sha) },
  );
  throughputRow(
    `pipe 2,000 × 64 KiB lines, ${server}`,
    ml,
    (2000 * 65536) / 1024 / 1024,
    'MiB/s',
    deflate ? '≥ 1.0×' : '≥ 1.2×',
    (r) => r >= (deflate ? 1.0 : 1.2),
  );
  const flood = `${url}flood?n=200000&size=64`;
  const floodSha = sha(Buffer.from(`${'f'.repeat(64)}\n`.repeat(200_000)));
  const mr = await measure(
    `receive, ${server}`,
    [
      { name: 'wsx', cmd: [node, WSX, flood, '-w', '-1'] },
      { name: 'raw', cmd: [node, RAW, flood, 'recv', ...rawArgs] },
    ],
    { emptyStdin: true, check: sameAs(floodSha) },
  );
  throughputRow(
    `receive 200,000 × 64 B, ${server}`,
    mr,
    200_000,
    'msg/s',
    '≥ 1.0×',
    (r) => r >= 1.0,
  );
}

/**
 * The same 64 B pipe against ws's echo server unbatched (a system call per echo): the server is
 * the bottleneck, so this row shows what the server allows rather than what the client does.
 */
async function unbatchedRow(url: string): Promise<void> {
  const small = linesFile('small.txt', 200_000, 64);
  const m = await measure(
    'pipe 64 B, unbatched ws server',
    [
      { name: 'wsx', cmd: [node, WSX, url, '--count', '200000'] },
      { name: 'raw', cmd: [node, RAW, url, 'pipe', '200000'] },
    ],
    { stdinFile: small.path, check: sameAs(small.sha) },
  );
  throughputRow(
    'pipe 200,000 × 64 B lines, ws server writing each echo on its own (server-bound)',
    m,
    200_000,
    'msg/s',
    '(server-bound)',
  );
}

async function firstEchoRows(url: string): Promise<void> {
  const hello = sha(Buffer.from('hello\n'));
  const line = join(work, 'hello.txt');
  writeFileSync(line, 'hello\n');
  const runs = RUNS * 6;
  const mx = await measure(
    'first echo -x',
    [
      { name: 'wsx', cmd: [node, WSX, url, '-x', 'hello', '-w', '0'] },
      { name: 'raw', cmd: [node, RAW, url, 'first'] },
      // wscat ends when its stdin does: it gets an open pipe (closed once it exits).
      { name: 'wscat', cmd: [node, WSCAT, '-c', url, '-x', 'hello', '-w', '0'] },
    ],
    { runs, check: sameAs(hello) },
  );
  const [w, r, c] = mx as [
    { ms: number; rssKb: number },
    { ms: number; rssKb: number },
    { ms: number; rssKb: number },
  ];
  timeRow('first echo: `-x hello -w 0`', w, r, 'raw ws client', '≤ 1.0×', (x) => x <= 1.0);
  timeRow('first echo: `-x hello -w 0` vs wscat 6', w, c, 'wscat 6', '(incumbent)');
  const ml = await measure(
    'first echo, stdin line',
    [
      { name: 'wsx', cmd: [node, WSX, url, '-w', '0'] },
      { name: 'raw', cmd: [node, RAW, url, 'line'] },
    ],
    { runs, stdinFile: line, check: sameAs(hello) },
  );
  timeRow(
    'first echo: one stdin line then EOF (`-w 0`)',
    ml[0] as { ms: number; rssKb: number },
    ml[1] as { ms: number; rssKb: number },
    'raw ws client',
    '≤ 1.05×',
    (x) => x <= 1.05,
  );
}

async function startupRows(): Promise<void> {
  const runs = RUNS * 5;
  const version = JSON.parse(readFileSync(`${root}package.json`, 'utf8')).version as string;
  const m = await measure(
    'start-up',
    [
      { name: 'wsx --version', cmd: [node, WSX, '--version'] },
      { name: 'node -e 0', cmd: [node, '-e', '0'] },
      { name: 'wsx --help', cmd: [node, WSX, '--help'] },
      { name: 'wscat --version', cmd: [node, WSCAT, '--version'] },
    ],
    {
      runs,
      emptyStdin: true,
      keepText: true,
      check: (r, who) =>
        who === 'wsx --version' && r.stdout !== `${version}\n`
          ? `printed ${JSON.stringify(r.stdout)}`
          : who === 'wsx --help' && !r.stdout.includes('Usage: wsx')
            ? 'no usage text'
            : undefined,
    },
  );
  const [v, n, h, c] = m as Array<{ ms: number; rssKb: number }> as [
    { ms: number; rssKb: number },
    { ms: number; rssKb: number },
    { ms: number; rssKb: number },
    { ms: number; rssKb: number },
  ];
  timeRow('`wsx --version` vs `node -e 0`', v, n, 'node -e 0', '≤ 1.1×', (x) => x <= 1.1);
  timeRow('`wsx --help` vs `node -e 0`', h, n, 'node -e 0', '≤ 1.3×', (x) => x <= 1.3);
  timeRow('`wsx --version` vs `wscat --version`', v, c, 'wscat 6', '(incumbent)');
}

/** Start a listen-mode server; resolves with its URL once it prints "Listening on …". */
function startListener(
  cmd: string[],
): Promise<{ child: ChildProcess; url: string; out: () => number }> {
  const child = spawn(cmd[0] as string, cmd.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env });
  let bytes = 0;
  child.stdout?.on('data', (d: Buffer) => {
    bytes += d.length;
  });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d;
      const m = /Listening on (ws:\/\/\S+)/.exec(err);
      if (m?.[1]) resolve({ child, url: m[1], out: () => bytes });
    });
    child.on('exit', (code) => reject(new Error(`${cmd.join(' ')} exited ${code}: ${err}`)));
  });
}

function peakRssKb(pid: number): number {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

async function listenRows(): Promise<void> {
  const C = 100;
  const cases = [
    { mode: 'echo', M: 2000, S: 64 },
    { mode: 'broadcast', M: 50, S: 64 },
  ];
  for (const { mode, M, S } of cases) {
    const expectOut = C * M * (S + 1);
    const samples: Array<Array<{ ms: number; rssKb: number }>> = [[], []];
    for (let i = 0; i < RUNS; i++) {
      for (const [k, cmd] of [
        [node, WSX, '-l', '0', '--bind', '127.0.0.1', `--${mode}`],
        [node, RAW_SERVER, mode],
      ].entries()) {
        const server = await startListener(cmd);
        const load = await run([node, LOAD, server.url, mode, String(C), String(M), String(S)], {
          emptyStdin: true,
          keepText: true,
        });
        const ms = (JSON.parse(load.stdout) as { ms: number }).ms;
        // Everything received was printed: wait for the last batch to reach stdout.
        for (let t = 0; t < 100 && server.out() < expectOut; t++)
          await new Promise((r) => setTimeout(r, 20));
        const rssKb = server.child.pid ? peakRssKb(server.child.pid) : 0;
        const exited = new Promise((r) => server.child.once('exit', r));
        server.child.kill('SIGTERM');
        await exited;
        if (server.out() !== expectOut)
          throw new Error(`listen ${mode}: printed ${server.out()} bytes of ${expectOut}`);
        samples[k]?.push({ ms, rssKb });
      }
    }
    process.stderr.write(`  listen --${mode}: done\n`);
    const med = samples.map((s) => ({
      ms: median(s.map((x) => x.ms)),
      rssKb: median(s.map((x) => x.rssKb)),
    }));
    const deliveries = mode === 'echo' ? C * M : C * M * (C - 1);
    throughputRow(
      `listen \`-l --${mode}\`, ${C} clients × ${M} messages (${deliveries.toLocaleString('en-US')} sent)`,
      med,
      deliveries,
      'msg/s',
      '≥ 0.9×',
      (r) => r >= 0.9,
      'raw ws server',
    );
  }
}

async function memoryRows(url: string): Promise<void> {
  const counts = [1_000_000, 10_000_000];
  const got: Array<{ ms: number; rssKb: number }> = [];
  // Medians of 3 (a 10 M run takes 10 s or more): one run's peak moves by a few MiB.
  const runs = Math.min(RUNS, 3);
  for (const n of counts) {
    const rss: number[] = [];
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await run([node, WSX, `${url}flood?n=${n}&size=16`, '-w', '-1'], {
        emptyStdin: true,
      });
      if (r.bytes !== n * 17) throw new Error(`memory ${n}: printed ${r.bytes} bytes of ${n * 17}`);
      rss.push(r.rssKb);
      ms.push(r.ms);
    }
    got.push({ ms: median(ms), rssKb: median(rss) });
  }
  const raw = await run([node, RAW, `${url}flood?n=1000000&size=16`, 'recv'], { emptyStdin: true });
  if (raw.bytes !== 17_000_000) throw new Error('memory: the raw client lost messages');
  process.stderr.write('  memory: done\n');
  const [one, ten] = got as [{ ms: number; rssKb: number }, { ms: number; rssKb: number }];
  rows.push({
    name: 'peak RSS receiving 10 M vs 1 M messages (16 B)',
    unit: 'MiB',
    wsx: ten.rssKb / 1024,
    base: one.rssKb / 1024,
    baseName: 'wsx at 1 M',
    wsxRss: ten.rssKb,
    baseRss: raw.rssKb,
    higherIsBetter: false,
    target: '≤ 1.1×',
    ok: (x) => x <= 1.1,
    note: 'RSS column: wsx at 10 M / raw client at 1 M',
  });
}

async function streamRows(url: string): Promise<void> {
  const help = execFileSync(node, [WSX, '--help'], { env, encoding: 'utf8' });
  if (!help.includes('--stream')) {
    process.stderr.write('  --stream: not in wsx --help yet, skipped\n');
    return;
  }
  // Listed is not enough while it is being built: a small round trip must come back whole.
  const probe = join(work, 'probe.bin');
  writeFileSync(probe, 'probe\n');
  try {
    const p = await run([node, WSX, '--stream', url], { stdinFile: probe });
    if (p.sha !== sha(Buffer.from('probe\n'))) throw new Error('probe did not come back');
  } catch (err) {
    process.stderr.write(`  --stream: not working yet (${(err as Error).message}), skipped\n`);
    return;
  }
  const data = Buffer.alloc(64 * 1024 * 1024);
  for (let i = 0; i < data.length; i += 4) data.writeUInt32LE((i * 2654435761) >>> 0, i);
  const path = join(work, 'stream.bin');
  writeFileSync(path, data);
  const m = await measure(
    '--stream',
    [
      { name: 'wsx', cmd: [node, WSX, '--stream', url] },
      { name: 'raw', cmd: [node, RAW, url, 'stream'] },
    ],
    { stdinFile: path, check: sameAs(sha(data)) },
  );
  throughputRow(
    '`--stream` 64 MiB echoed',
    m,
    64,
    'MiB/s',
    '≥ 0.9×',
    (r) => r >= 0.9,
    'raw ws byte pump',
  );
}

/** The standalone binary (npm run build:binary) embeds Node 24: compare it with that Node. */
async function binaryRows(url: string): Promise<void> {
  const binary = `${root}dist/wsx`;
  if (!existsSync(binary)) {
    process.stderr.write('  (no dist/wsx: npm run build:binary to include the binary rows)\n');
    return;
  }
  const node24 = execFileSync(
    'npx',
    ['-y', '-p', 'node@24', '--', 'node', '-p', 'process.execPath'],
    {
      encoding: 'utf8',
    },
  ).trim();
  const hello = sha(Buffer.from('hello\n'));
  const rawSea = rawClientSea(node24);
  // A file just written (the binary, the raw SEA) or unpacked (npx's Node 24) is all in the page
  // cache, and the kernel's fault-around then maps far more of it into every process than of a
  // binary whose pages were only ever read on demand: +16 MiB of RSS for a SEA built a moment
  // ago, none once its cache is dropped. Every executable of these rows starts from the same state.
  evictPageCache([binary, rawSea, node24]);
  const m = await measure(
    'binary',
    [
      { name: 'binary -x', cmd: [binary, url, '-x', 'hello', '-w', '0'] },
      { name: 'raw on node 24', cmd: [node24, RAW, url, 'first'] },
      { name: 'raw client SEA', cmd: [rawSea, url, 'first'] },
    ],
    { runs: RUNS * 6, check: sameAs(hello) },
  );
  timeRow(
    'binary: first echo vs the raw client on Node 24',
    m[0] as { ms: number; rssKb: number },
    m[1] as { ms: number; rssKb: number },
    'raw, Node 24',
    '≤ 1.0×',
    (x) => x <= 1.0,
  );
  // Like for like: the raw client packaged the same way (a SEA starts differently from
  // `node file.js`: it reads its script and code cache from the blob).
  timeRow(
    'binary: first echo vs the raw client built as a SEA the same way',
    m[0] as { ms: number; rssKb: number },
    m[2] as { ms: number; rssKb: number },
    'raw client SEA',
    '≤ 1.0×',
    (x) => x <= 1.0,
  );
  const v = await measure(
    'binary start-up',
    [
      { name: 'binary --version', cmd: [binary, '--version'] },
      { name: 'node24 -e 0', cmd: [node24, '-e', '0'] },
    ],
    { runs: RUNS * 5, emptyStdin: true },
  );
  timeRow(
    'binary `--version` vs Node 24 `-e 0`',
    v[0] as { ms: number; rssKb: number },
    v[1] as { ms: number; rssKb: number },
    'node24 -e 0',
    '≤ 1.1×',
    (x) => x <= 1.1,
  );
}

/**
 * Drop `files` from the page cache (written back first: dirty pages cannot be dropped), with
 * coreutils' dd (`iflag=nocache count=0`: posix_fadvise DONTNEED on the whole file). Without it,
 * or where it fails, the rows run as they are and say so.
 */
function evictPageCache(files: string[]): void {
  for (const f of files) {
    try {
      execFileSync('sync', [f], { stdio: 'ignore' });
      execFileSync('dd', [`if=${f}`, 'iflag=nocache', 'count=0', 'status=none'], {
        stdio: 'ignore',
      });
    } catch {
      process.stderr.write(`  (could not drop ${f} from the page cache: its RSS may read high)\n`);
    }
  }
}

/**
 * The raw client (with ws bundled in) as a single executable of `node24`, made as
 * scripts/build-binary.mts makes wsx's: code cache on, symbols stripped, the blob injected.
 */
function rawClientSea(node24: string): string {
  const dir = join(work, 'raw-sea');
  mkdirSync(dir, { recursive: true });
  const main = join(dir, 'raw-client.cjs');
  execFileSync(
    `${root}node_modules/.bin/esbuild`,
    [RAW, '--bundle', '--platform=node', '--format=cjs', '--minify', `--outfile=${main}`],
    { stdio: 'ignore' },
  );
  const config = join(dir, 'sea.json');
  const blob = join(dir, 'sea.blob');
  writeFileSync(
    config,
    JSON.stringify({ main, output: blob, useCodeCache: true, disableExperimentalSEAWarning: true }),
  );
  execFileSync(node24, ['--experimental-sea-config', config], { stdio: 'ignore' });
  const out = join(dir, 'raw-client');
  copyFileSync(node24, out);
  chmodSync(out, 0o755);
  execFileSync('strip', ['--strip-all', out]);
  execFileSync(
    `${root}node_modules/.bin/postject`,
    [
      out,
      'NODE_SEA_BLOB',
      blob,
      '--sentinel-fuse',
      'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2',
    ],
    { stdio: 'ignore' },
  );
  return out;
}

/** wscat 6 in a pipe: how many replies it prints before it exits at the end of its input. */
async function wscatPipe(url: string): Promise<string> {
  const small = linesFile('small-wscat.txt', 200_000, 64);
  const r = await run([node, WSCAT, '-c', url], { stdinFile: small.path });
  return `wscat 6, the same 200,000 lines piped: exits at the end of its input, having printed ${r.lines.toLocaleString('en-US')} of 200,000 replies (${r.ms.toFixed(0)} ms)`;
}

function fmt(v: number, unit: string): string {
  if (unit === 'ms') return `${v.toFixed(1)} ms`;
  if (unit === 'MiB/s') return `${v.toFixed(0)} MiB/s`;
  if (unit === 'MiB') return `${v.toFixed(0)} MiB`;
  return `${Math.round(v).toLocaleString('en-US')} ${unit}`;
}

async function main() {
  if (!existsSync(`${root}dist/wsx.cjs`)) throw new Error('run npm run build first');
  const started = performance.now();
  const load0 = loadavg()[0] ?? 0;
  const plain = await startServer([]);
  const deflate = await startServer(['--deflate']);
  const unbatched = await startServer(['--unbatched']);
  let wscatNote = '';
  try {
    // BENCH_ONLY=first,pipe,… runs some groups (while working on them); the README's table comes
    // from a whole run.
    const only = process.env.BENCH_ONLY?.split(',');
    const want = (group: string) => !only || only.includes(group);
    if (want('startup')) await startupRows();
    if (want('first')) await firstEchoRows(plain.url);
    if (want('pipe')) await pipeRows(plain.url, false);
    if (want('deflate')) await pipeRows(deflate.url, true);
    if (want('unbatched')) await unbatchedRow(unbatched.url);
    if (want('listen')) await listenRows();
    if (want('stream')) await streamRows(plain.url);
    if (want('memory')) await memoryRows(plain.url);
    if (want('wscat')) wscatNote = await wscatPipe(plain.url);
    if (want('binary')) await binaryRows(plain.url);
  } finally {
    plain.stop();
    deflate.stop();
    unbatched.stop();
    rmSync(work, { recursive: true, force: true });
  }

  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
  console.log(
    `\nwsx ${process.env.npm_package_version ?? ''} — ${date} UTC, node ${process.version}, ${cpus().length} × ${cpu}, load ${load0.toFixed(2)} at start; medians of ${RUNS} runs (${RUNS * 6} first echo, ${RUNS * 5} start-up); ${((performance.now() - started) / 60000).toFixed(1)} min\n`,
  );
  console.log('| scenario | wsx | baseline | ratio | target | met | peak RSS wsx / baseline |');
  console.log('|---|---|---|---|---|---|---|');
  let failed = 0;
  for (const r of rows) {
    // Throughput: wsx ÷ baseline (higher is better). Times and memory: wsx ÷ baseline (lower).
    const ratio = r.wsx / r.base;
    const met = r.ok ? (r.ok(ratio) ? 'yes' : 'no') : '–';
    if (met === 'no') failed++;
    const rss =
      r.wsxRss && r.baseRss
        ? `${(r.wsxRss / 1024).toFixed(0)} / ${(r.baseRss / 1024).toFixed(0)} MiB${Math.round(r.wsxRss / 1024) > Math.round(r.baseRss / 1024) && !r.note && !r.selfBaseline ? ' (over)' : ''}`
        : 'n/a';
    console.log(
      `| ${r.name} | ${fmt(r.wsx, r.unit)} | ${fmt(r.base, r.unit)} (${r.baseName}) | ${ratio.toFixed(2)}× | ${r.target} | ${met} | ${rss} |`,
    );
  }
  console.log(`\n${wscatNote}.`);
  for (const r of rows) if (r.note) console.log(`${r.name}: ${r.note}.`);
  console.log(
    `\n${rows.length} rows, ${failed} below target. Every output was checked (sha256 or byte count).`,
  );
}

main().catch((err) => {
  console.error(`bench failed: ${(err as Error).message}`);
  process.exitCode = 1;
});
