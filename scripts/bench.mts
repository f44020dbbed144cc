// npm run bench: wsx against a minimal raw ws client in the same run, on a local echo server.
// Prints a markdown table of medians and ratios (wsx / raw). Not part of npm test.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const WSX = `${root}bin/wsx.js`;
const RAW = `${root}scripts/bench/raw-client.cjs`;
const SERVER = `${root}scripts/bench/server.cjs`;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const node = process.execPath;
const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

interface Result {
  ms: number;
  rssKb: number;
  stdout: Buffer;
}

function run(cmd: string[], input?: Buffer): Promise<Result> {
  // /usr/bin/time -f %M reports the peak RSS (KiB) of the measured process.
  const argv = timeBin ? [timeBin, '-f', '__RSS=%M', ...cmd] : cmd;
  const t0 = performance.now();
  const child: ChildProcess = spawn(argv[0] as string, argv.slice(1), {
    stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  const out: Buffer[] = [];
  let err = '';
  child.stdout?.on('data', (d: Buffer) => out.push(d));
  child.stderr?.on('data', (d: Buffer) => {
    err += d;
  });
  if (input) {
    child.stdin?.on('error', () => {});
    child.stdin?.end(input);
  }
  const kill = setTimeout(() => child.kill('SIGKILL'), 120_000);
  return new Promise((resolve, reject) => {
    child.on('close', (code) => {
      clearTimeout(kill);
      const ms = performance.now() - t0;
      if (code !== 0) return reject(new Error(`${cmd.join(' ')} exited ${code}: ${err}`));
      resolve({ ms, rssKb: Number(/__RSS=(\d+)/.exec(err)?.[1] ?? 0), stdout: Buffer.concat(out) });
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Row {
  name: string;
  unit: string;
  wsx: number;
  raw: number;
  wsxRss: number;
  rawRss: number;
  /** true when a larger value is better (throughput) */
  higherIsBetter: boolean;
}

async function compare(
  name: string,
  wsxCmd: string[],
  rawCmd: string[],
  opts: { input?: Buffer; expect?: Buffer; perSecond?: number; unit?: string } = {},
): Promise<Row> {
  const w: Result[] = [];
  const r: Result[] = [];
  // Start-up-sized jobs (no input, no expected output) are short and noisy: give them 3× the runs.
  const runs = opts.input === undefined && opts.expect === undefined ? RUNS * 3 : RUNS;
  for (let i = 0; i < runs; i++) {
    // Alternate so drift (thermal, other load) hits both equally.
    w.push(await run(wsxCmd, opts.input));
    r.push(await run(rawCmd, opts.input));
  }
  if (opts.expect) {
    const want = sha(opts.expect);
    for (const x of [...w, ...r]) {
      if (sha(x.stdout) !== want)
        throw new Error(`${name}: output differs from the input (lost or reordered data)`);
    }
  }
  const wm = median(w.map((x) => x.ms));
  const rm = median(r.map((x) => x.ms));
  const toValue = (ms: number) => (opts.perSecond ? opts.perSecond / (ms / 1000) : ms);
  return {
    name,
    unit: opts.unit ?? 'ms',
    wsx: toValue(wm),
    raw: toValue(rm),
    wsxRss: median(w.map((x) => x.rssKb)),
    rawRss: median(r.map((x) => x.rssKb)),
    higherIsBetter: opts.perSecond !== undefined,
  };
}

async function main() {
  if (!existsSync(`${root}dist/wsx.cjs`)) throw new Error('run npm run build first');
  const server = spawn(node, [SERVER], { stdio: ['ignore', 'pipe', 'inherit'], cwd: root });
  const port = await new Promise<string>((resolve) =>
    server.stdout?.once('data', (d) => resolve(String(d).trim())),
  );
  const url = `ws://127.0.0.1:${port}/`;
  const rows: Row[] = [];
  try {
    const small = Buffer.from(
      `${Array.from({ length: 200_000 }, (_, i) => `${i}`.padStart(63, '.')).join('\n')}\n`,
    );
    rows.push(
      await compare(
        'pipe 200,000 × 64 B lines',
        [node, WSX, url, '--count', '200000'],
        [node, RAW, url, 'pipe', '200000'],
        {
          input: small,
          expect: small,
          perSecond: 200_000,
          unit: 'msg/s',
        },
      ),
    );
    const line = 'x'.repeat(65535);
    const large = Buffer.from(
      `${Array.from({ length: 2000 }, (_, i) => `${i}`.padStart(6, '0') + line.slice(6)).join('\n')}\n`,
    );
    rows.push(
      await compare(
        'pipe 2,000 × 64 KiB lines',
        [node, WSX, url, '--count', '2000'],
        [node, RAW, url, 'pipe', '2000'],
        {
          input: large,
          expect: large,
          perSecond: large.length / 1024 / 1024,
          unit: 'MiB/s',
        },
      ),
    );
    const flood = `${url}flood?n=200000&size=64`;
    const floodOut = Buffer.from(`${'f'.repeat(64)}\n`.repeat(200_000));
    rows.push(
      await compare(
        'receive 200,000 × 64 B',
        [node, WSX, flood, '-w', '-1'],
        [node, RAW, flood, 'recv'],
        {
          input: Buffer.alloc(0),
          expect: floodOut,
          perSecond: 200_000,
          unit: 'msg/s',
        },
      ),
    );
    rows.push(
      await compare(
        'time to first echo (-x hi)',
        [node, WSX, url, '-x', 'hi', '--count', '1'],
        [node, RAW, url, 'first'],
      ),
    );
    rows.push(
      await compare(
        'start-up: --version vs node -e 0',
        [node, WSX, '--version'],
        [node, '-e', '0'],
      ),
    );
    // The standalone binary embeds Node 24: compare it with that same Node.
    const binary = `${root}dist/wsx`;
    if (existsSync(binary)) {
      const node24 = execFileSync(
        'npx',
        ['-y', '-p', 'node@24', '--', 'node', '-p', 'process.execPath'],
        {
          encoding: 'utf8',
        },
      ).trim();
      rows.push(
        await compare(
          'binary: time to first echo',
          [binary, url, '-x', 'hi', '--count', '1'],
          [node24, RAW, url, 'first'],
        ),
      );
      rows.push(
        await compare(
          'binary: --version vs node24 -e 0',
          [binary, '--version'],
          [node24, '-e', '0'],
        ),
      );
    } else {
      console.error('(no dist/wsx: npm run build:binary to include the binary rows)');
    }
  } finally {
    server.kill();
  }

  const fmt = (v: number, unit: string) =>
    unit === 'ms'
      ? `${v.toFixed(1)} ms`
      : unit === 'MiB/s'
        ? `${v.toFixed(0)} MiB/s`
        : `${Math.round(v).toLocaleString('en-US')} msg/s`;
  const nodeVersion = process.version;
  const cpu = execFileSync('sh', [
    '-c',
    "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 || true",
  ])
    .toString()
    .trim();
  console.log(
    `\nwsx vs raw ws client — node ${nodeVersion}, ${cpu || 'unknown CPU'}, median of ${RUNS} runs (${RUNS * 3} for the start-up and first-echo rows)\n`,
  );
  console.log('| scenario | wsx | raw ws client | ratio | peak RSS wsx / raw |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) {
    // Ratio is always "how good wsx is": ≥ 1 means as fast or faster than raw for throughput,
    // and for times it is wsx time / raw time (≤ 1 is better).
    const ratio = r.higherIsBetter ? r.wsx / r.raw : r.wsx / r.raw;
    const rss =
      r.wsxRss && r.rawRss
        ? `${(r.wsxRss / 1024).toFixed(0)} / ${(r.rawRss / 1024).toFixed(0)} MiB`
        : 'n/a';
    console.log(
      `| ${r.name} | ${fmt(r.wsx, r.unit)} | ${fmt(r.raw, r.unit)} | ${ratio.toFixed(2)}× | ${rss} |`,
    );
  }
  console.log(
    '\nThroughput ratios are wsx ÷ raw (target ≥ 0.9×); time ratios are wsx ÷ raw (targets: first echo ≤ 1.1×, start-up ≤ 1.2×).',
  );
}

main().catch((err) => {
  console.error(`bench failed: ${(err as Error).message}`);
  process.exitCode = 1;
});
