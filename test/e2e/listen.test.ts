// Listen mode (SPEC §8) with real clients: ws, a headless Chromium page, Python's websockets,
// and the REPL in a terminal.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { makeCerts } from '../fixtures/certs.js';
import { has } from '../fixtures/proxies.js';
import { BIN, runCli } from '../helpers/cli.js';
import { collect } from '../helpers/spawn.js';
import { hasTmux, Terminal } from '../helpers/tmux.js';

interface Server {
  child: ChildProcess;
  url: string;
  port: number;
  out(): string;
  err(): string;
  exited: Promise<number | null>;
  write(text: string): void;
}

const children: ChildProcess[] = [];
const closers: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const c of closers.splice(0)) await c();
});

/** Start `wsx -l 0 …` and wait for its "Listening on" line. */
async function startServer(
  args: string[],
  opts: { stdin?: 'pipe' | 'ignore' } = {},
): Promise<Server> {
  const child = spawn(process.execPath, [BIN, '-l', '0', ...args], {
    stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    err += d;
  });
  child.stdin?.on('error', () => {});
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => resolve(code)),
  );
  const deadline = Date.now() + 10_000;
  while (!/Listening on (\S+)/.test(err + out)) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`no Listening line: ${err}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const url = /Listening on (\S+)/.exec(err + out)?.[1] ?? '';
  return {
    child,
    url,
    port: Number(new URL(url).port),
    out: () => out,
    err: () => err,
    exited,
    write: (text) => child.stdin?.write(text),
  };
}

/** A Node binary `user` may execute: this one, or the system's when this one is under /root. */
function nodeFor(user: string): string {
  return canExec(user, process.execPath) ? process.execPath : '/usr/bin/node';
}

function canExec(user: string, file: string): boolean {
  try {
    execFileSync('runuser', ['-u', user, '--', 'test', '-x', file]);
    return true;
  } catch {
    return false;
  }
}

function canRun(user: string): boolean {
  try {
    execFileSync('runuser', ['-u', user, '--', 'test', '-r', BIN]);
    return canExec(user, nodeFor(user));
  } catch {
    return false;
  }
}

async function until(fn: () => boolean, what: string, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function client(
  url: string,
  protocols?: string[],
  opts: object = {},
): Promise<{ ws: WebSocket; got: string[] }> {
  const ws = new WebSocket(url, protocols, opts);
  const got: string[] = [];
  ws.on('message', (d) => got.push(String(d)));
  ws.on('error', () => {});
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, got }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

describe('listen mode', () => {
  it('--echo serves with no input; the Listening line is on stderr in raw mode; SIGTERM exits 143', async () => {
    const s = await startServer(['--echo']);
    expect(s.err()).toMatch(/^Listening on ws:\/\/127\.0\.0\.1:\d+\/\n/);
    const c = await client(s.url);
    c.ws.send('ping me');
    await until(() => c.got.length === 1, 'echo');
    expect(c.got).toEqual(['ping me']);
    await until(() => s.out() === 'ping me\n', 'payload on stdout');
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(143);
  });

  it('a wsx client piping 100,000 lines with -w 0 gets every echo before the close (wsx on both sides)', async () => {
    // The client's close frame arrives in the same read as the last messages: the echoes the hub
    // frames for them must reach the socket before ws's reply to the close (a reordering once
    // lost the last few thousand).
    const s = await startServer(['--echo', '-q']);
    const lines = Array.from({ length: 100_000 }, (_, i) => String(i));
    const input = `${lines.join('\n')}\n`;
    const r = await runCli([s.url, '-w', '0'], { input, timeoutMs: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe(input);
  }, 60_000);

  it('pipe: input read before any client connects is queued for the first one; received payloads go to stdout', async () => {
    const s = await startServer([], { stdin: 'pipe' });
    s.write('early 1\nearly 2\n');
    await new Promise((r) => setTimeout(r, 200));
    const a = await client(s.url);
    await until(() => a.got.length === 2, 'queued lines');
    expect(a.got).toEqual(['early 1', 'early 2']);
    const b = await client(s.url);
    s.write('to everyone\n');
    await until(() => a.got.length === 3 && b.got.length === 1, 'broadcast from stdin');
    expect(b.got).toEqual(['to everyone']);
    a.ws.send('from a');
    b.ws.send(Buffer.from([1, 2, 3]));
    await until(() => s.out().includes('from a\n') && s.out().includes('\x01\x02\x03'), 'payloads');
    s.child.stdin?.end();
    await new Promise((r) => setTimeout(r, 300));
    expect(s.child.exitCode).toBeNull(); // end of input does not stop the server
  });

  it('--broadcast relays to every other client; --once exits 0 after the first client leaves', async () => {
    const s = await startServer(['--broadcast', '--once', '--json']);
    const a = await client(s.url);
    const b = await client(s.url);
    const c = await client(s.url);
    a.ws.send('hello all');
    await until(() => b.got.length === 1 && c.got.length === 1, 'relay');
    expect(a.got).toEqual([]);
    b.ws.close(1000);
    expect(await s.exited).toBe(0);
    const events = s
      .out()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const opens = events.filter((e) => e.event === 'open');
    expect(opens.map((e) => e.client)).toEqual([1, 2, 3]);
    expect(opens[0].remote).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(events.find((e) => e.event === 'message' && e.direction === 'in')).toMatchObject({
      client: 1,
      data: 'hello all',
    });
    expect(events.find((e) => e.event === 'close')).toMatchObject({ client: 2, code: 1000 });
  });

  it('-s accepts only the given subprotocols (HTTP 400 otherwise); -v shows request headers, masked', async () => {
    const s = await startServer(['-s', 'chat', '-s', 'v2', '-v', '--output', 'pretty']);
    await expect(client(s.url)).rejects.toThrow('HTTP 400');
    await expect(client(s.url, ['other'])).rejects.toThrow('HTTP 400');
    const ok = await client(s.url, ['other', 'v2'], {
      headers: { Authorization: 'Bearer sekrit' },
    });
    expect(ok.ws.protocol).toBe('v2');
    await until(
      () => /#1 connected from 127\.0\.0\.1:\d+ \/ \(subprotocol: v2/.test(s.out()),
      'connected line',
    );
    await until(() => s.err().includes('#1 > Authorization: Bearer ****'), 'verbose headers');
    expect(s.err()).not.toContain('sekrit');
  });

  it.runIf(has('openssl'))('--cert/--key serve wss', async () => {
    const certs = makeCerts();
    const s = await startServer(['--cert', certs.server.cert, '--key', certs.server.key, '--echo']);
    expect(s.url).toMatch(/^wss:\/\//);
    const c = await client(s.url.replace('127.0.0.1', 'localhost'), undefined, { ca: certs.caPem });
    c.ws.send('secure');
    await until(() => c.got.length === 1, 'tls echo');
    expect(c.got).toEqual(['secure']);
  });

  it('a port in use exits 1; a bad bind address exits 2; a privileged port is explained', async () => {
    const s = await startServer(['--echo']);
    const run = (args: string[], asUser?: string) =>
      asUser
        ? collect('runuser', ['-u', asUser, '--', nodeFor(asUser), BIN, ...args])
        : collect(process.execPath, [BIN, ...args]);
    const inUse = await run(['-l', String(s.port)]);
    expect(inUse.code).toBe(1);
    expect(inUse.err).toMatch(/^error: port \d+ on 127\.0\.0\.1 is already in use\nhint: /);
    const badAddr = await run(['-l', '0', '--bind', '999.1.1.1']);
    expect(badAddr.code).toBe(2);
    expect(badAddr.err).toMatch(/^error: invalid bind address '999\.1\.1\.1'/);
    const notMine = await run(['-l', '0', '--bind', '192.0.2.1']);
    expect(notMine.code).toBe(2);
    expect(notMine.err).toMatch(/not an address of this machine/);
    const badPort = await run(['-l', '70000']);
    expect(badPort.code).toBe(2);
    // Only root can drop to an unprivileged user to see EACCES; CI runs as root.
    if (process.getuid?.() === 0 && has('runuser') && canRun('nobody')) {
      const privileged = await run(['-l', '80'], 'nobody');
      expect(privileged.code).toBe(1);
      expect(privileged.err).toMatch(
        /permission denied to listen on port 80\nhint: ports below 1024/,
      );
    }
  });
});

describe.runIf(hasTmux())('listen mode REPL', () => {
  it('typed lines go to every client; /clients, /to and /kick', async () => {
    const t = new Terminal(['-l', '0', '--no-history']);
    closers.push(() => t.kill());
    const screen = await t.waitFor(/Listening on (ws:\S+)/);
    const url = /Listening on (ws:\S+)/.exec(screen)?.[1] ?? '';
    const a = await client(url);
    const b = await client(url);
    const closes: Array<[number, string]> = [];
    b.ws.on('close', (code, reason) => closes.push([code, String(reason)]));
    await t.waitFor(/#2 connected from/);
    t.type('hello both');
    t.press('Enter');
    await until(() => a.got.length === 1 && b.got.length === 1, 'typed line to all');
    t.type('/to 1 only you');
    t.press('Enter');
    await until(() => a.got.length === 2, '/to');
    expect(a.got).toEqual(['hello both', 'only you']);
    t.type('/clients');
    t.press('Enter');
    await t.waitFor(/#1 {2}127\.0\.0\.1:\d+ {2}\/[\s\S]*#2 {2}127\.0\.0\.1/);
    t.type('/kick 2 4002 go away');
    t.press('Enter');
    await until(() => closes.length === 1, 'kick');
    expect(closes).toEqual([[4002, 'go away']]);
    t.type('/kick 9');
    t.press('Enter');
    await t.waitFor(/error: no client #9/);
    a.ws.send('from a');
    await t.waitFor(/#1 < from a/);
    t.press('C-d');
    expect((await t.exited()).code).toBe(0);
  });
});

/** A page served on 127.0.0.1 that talks to wsx with the browser's own WebSocket. */
async function servePage(wsUrl: string): Promise<string> {
  const page = `<!doctype html><script>
const ws = new WebSocket(${JSON.stringify(wsUrl)});
ws.onopen = () => ws.send('hello from the browser');
ws.onmessage = (e) => { if (e.data === 'goodbye browser') ws.close(4321, 'browser bye'); };
</script>`;
  const server = createHttpServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end(page);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

const chromium = ['chromium', 'chromium-browser'].find((c) => has(c));

describe.runIf(process.env.CI === 'true' || chromium !== undefined)(
  'real clients that are not wsx',
  () => {
    it('headless Chromium: sends, receives, and closes with a code wsx shows', async () => {
      const s = await startServer(['--json'], { stdin: 'pipe' });
      const pageUrl = await servePage(s.url);
      const profile = mkdtempSync(join(tmpdir(), 'wsx-chromium-'));
      const browser = spawn(
        chromium ?? 'chromium',
        [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          `--user-data-dir=${profile}`,
          pageUrl,
        ],
        { stdio: 'ignore' },
      );
      children.push(browser);
      await until(() => s.out().includes('hello from the browser'), 'browser message', 30_000);
      s.write('goodbye browser\n');
      await until(() => s.out().includes('"event":"close"'), 'browser close', 10_000);
      const events = s
        .out()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(events.find((e) => e.event === 'open').remote).toMatch(/^127\.0\.0\.1:/);
      expect(events.find((e) => e.event === 'message' && e.direction === 'in').data).toBe(
        'hello from the browser',
      );
      expect(events.find((e) => e.event === 'close')).toMatchObject({
        code: 4321,
        name: '',
        reason: 'browser bye',
        clean: true,
      });
    }, 60_000);

    it('Python websockets (Debian python3-websockets) interoperates', async () => {
      const s = await startServer(['--echo']);
      const script = join(mkdtempSync(join(tmpdir(), 'wsx-py-')), 'client.py');
      writeFileSync(
        script,
        `import asyncio, sys
from websockets.client import connect
async def main():
    async with connect(sys.argv[1]) as ws:
        await ws.send("hi from python")
        print(await ws.recv())
        await ws.send(b"\\x00\\x01")
        print((await ws.recv()).hex())
asyncio.run(main())
`,
      );
      const py = await collect('/usr/bin/python3', [script, s.url]);
      expect(py.err).toBe('');
      expect(py.code).toBe(0);
      expect(py.out).toBe('hi from python\n0001\n');
      await until(() => s.out().includes('hi from python\n'), 'python message on stdout');
    }, 30_000);
  },
);
