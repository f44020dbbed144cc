// The REPL in a real pseudo-terminal (tmux): typing, printing above the prompt, commands,
// history, leaving, and terminal safety.

import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeCerts } from '../fixtures/certs.js';
import { has } from '../fixtures/proxies.js';
import { echoServer, type TestServer, tlsWsServer, wsServer } from '../fixtures/servers.js';
import { hasTmux, Terminal } from '../helpers/tmux.js';

const terms: Terminal[] = [];
const servers: TestServer[] = [];
function term(args: string[], opts?: ConstructorParameters<typeof Terminal>[1]): Terminal {
  const t = new Terminal(args, opts);
  terms.push(t);
  return t;
}
async function track<T extends TestServer>(s: Promise<T>): Promise<T> {
  const server = await s;
  servers.push(server);
  return server;
}
afterEach(async () => {
  for (const t of terms.splice(0)) t.kill();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** Lines of the screen without trailing blanks. */
const lines = (screen: string) => screen.split('\n').map((l) => l.trimEnd());

describe.runIf(hasTmux())('REPL in a terminal', () => {
  it('sends typed lines, prints replies, keeps the half-typed line when messages arrive', async () => {
    const got: string[] = [];
    const s = await track(
      wsServer((ws) =>
        ws.on('message', (d) => {
          got.push(String(d));
          ws.send(`echo: ${d}`);
        }),
      ),
    );
    const conn = s.nextConnection();
    const t = term([s.url, '--no-history']);
    await t.waitFor(/Connected to .*\n> $/m);
    t.type('hello');
    t.press('Enter');
    await t.waitFor(/< echo: hello/);
    t.type('half typed');
    (await conn).ws.send('pushed while typing');
    const screen = await t.waitFor(/< pushed while typing\n> half typed$/m);
    // The typed line is not echoed back as a "> " message line.
    expect(lines(screen).filter((l) => l === '> hello')).toHaveLength(1);
    t.press('Enter');
    await t.waitFor(/< echo: half typed/);
    expect(got).toEqual(['hello', 'half typed']);
  });

  it('a typed line that wraps at 80 columns: messages keep appearing above it, none is erased (defect 3)', async () => {
    const got: string[] = [];
    const s = await track(
      wsServer((ws) => {
        let n = 0;
        const tick = setInterval(() => ws.send(`msg ${++n}`), 100);
        ws.on('close', () => clearInterval(tick));
        ws.on('message', (d) => got.push(String(d)));
      }),
    );
    const t = term([s.url, '--no-history'], { width: 80 });
    /** The highest message number shown so far. */
    const last = (screen: string) =>
      Math.max(0, ...[...screen.matchAll(/^< msg (\d+)$/gm)].map((m) => Number(m[1])));
    const shown = (n: number) => new RegExp(`^< msg ${n}$`, 'm');
    await t.waitFor(shown(2));
    const typed = 'abcdefghij'.repeat(10);
    t.type(typed);
    await t.waitFor(new RegExp(`^> ${typed}$`, 'm'));
    // While the 100 characters wrap onto a second row, messages still arrive above them.
    await t.waitFor(shown(last(t.screen()) + 5));
    // With the cursor inside the wrapped line too.
    t.press(...Array<string>(30).fill('Left'));
    await t.waitFor(shown(last(t.screen()) + 5));
    t.press('End');
    t.press('Enter');
    for (let i = 0; i < 100 && !got.includes(typed); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(got).toEqual([typed]);
    await t.waitFor(shown(last(t.screen()) + 3));
    // Every message is still in the scrollback, once, in order, and the typed line too.
    const history = t.scrollback();
    const numbers = [...history.matchAll(/^< msg (\d+)$/gm)].map((m) => Number(m[1]));
    expect(numbers.length).toBeGreaterThan(10);
    expect(numbers).toEqual(numbers.map((_, i) => i + 1));
    expect(lines(history).filter((l) => l === `> ${typed}`)).toHaveLength(1);
    t.press('C-d');
    expect(await t.exited()).toEqual({ code: 0, sane: true });
  });

  it('Ctrl-Z then fg: the REPL is alive again, sends what is typed, and Ctrl-D exits 0 (defect 4)', async () => {
    const got: string[] = [];
    const closes: number[] = [];
    const s = await track(
      wsServer((ws) => {
        ws.on('message', (d) => {
          got.push(String(d));
          ws.send(`echo: ${d}`);
        });
        ws.on('close', (c) => closes.push(c));
      }),
    );
    const t = term([s.url, '--no-history'], { jobControl: true });
    await t.waitFor(/^> $/m);
    t.type('before');
    t.press('Enter');
    await t.waitFor(/^< echo: before$/m);
    t.press('C-z');
    await t.waitFor(/Stopped[\s\S]*^\$ $/m);
    t.type('fg');
    t.press('Enter');
    await t.waitFor(/^\$ fg$[\s\S]*^> $/m);
    t.type('after fg');
    // Typing is echoed again.
    await t.waitFor(/^> after fg$/m);
    t.press('Enter');
    await t.waitFor(/^< echo: after fg$/m);
    expect(got).toEqual(['before', 'after fg']);
    t.press('C-d');
    expect(await t.exited()).toEqual({ code: 0, sane: true });
    expect(closes).toEqual([1000]);
    // Ctrl-D takes the prompt away: the close line starts its own row.
    expect(t.screen()).toMatch(/^Disconnected: 1000 Normal Closure$/m);
  });

  it('--demo (what npm start opens): greeting, binary frame, echo, /ping, and a clean exit', async () => {
    const t = term(['--demo', '--no-history']);
    await t.waitFor(/Connected to ws:\/\/127\.0\.0\.1:\d+\//);
    await t.waitFor(/"type": "welcome"[\s\S]*\[binary 29 B\][\s\S]*\|wsx demo: a bina\|/);
    t.type('hello demo');
    t.press('Enter');
    await t.waitFor(/< hello demo/);
    t.type('/ping');
    t.press('Enter');
    await t.waitFor(/< \[pong\] \(rtt [\d.]+ ms\)/);
    t.press('C-d');
    expect(await t.exited()).toEqual({ code: 0, sane: true });
  });

  it('with stdout redirected to a file, the console stays on the terminal and only payloads go to the file', async () => {
    const s = await track(echoServer());
    const file = join(mkdtempSync(join(tmpdir(), 'wsx-out-')), 'replies.txt');
    const t = term([s.url, '--no-history'], { stdoutFile: file });
    await t.waitFor(/^> $/m);
    t.type('to the file');
    t.press('Enter');
    // The reply goes to the file, not the screen: wait for it there.
    for (let i = 0; i < 100 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 100 && readFileSync(file, 'utf8') === ''; i++)
      await new Promise((r) => setTimeout(r, 50));
    t.type('/status');
    t.press('Enter');
    await t.waitFor(/messages\s+1 in, 1 out/);
    t.press('C-d');
    expect((await t.exited()).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('to the file\n');
  });

  it('pasted pretty-printed JSON goes as one message; a 5 KiB line arrives whole', async () => {
    const got: string[] = [];
    const s = await track(wsServer((ws) => ws.on('message', (d) => got.push(String(d)))));
    const t = term([s.url, '--no-history']);
    await t.waitFor(/^> $/m);
    t.type('{');
    t.press('Enter');
    await t.waitFor(/^… $/m);
    t.type('  "a": [1,');
    t.press('Enter');
    t.type('  2]}');
    t.press('Enter');
    const long = 'x'.repeat(5000);
    t.type(long);
    t.press('Enter');
    await new Promise((r) => setTimeout(r, 200));
    for (let i = 0; i < 50 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect(got).toEqual(['{\n  "a": [1,\n  2]}', long]);
  });

  it('slash commands: /ping with RTT, /binary, /status, /headers masks secrets, bad arguments do not end the session', async () => {
    const got: Array<[string, boolean]> = [];
    const s = await track(
      wsServer((ws) =>
        ws.on('message', (d, bin) => got.push([(d as Buffer).toString('hex'), bin])),
      ),
    );
    const t = term([s.url, '--no-history', '--auth', 'alice:secret']);
    await t.waitFor(/^> $/m);
    t.type('/ping hi');
    t.press('Enter');
    await t.waitFor(/< \[pong\] hi \(rtt [\d.]+ ms\)/);
    t.type('/binary 00ff10');
    t.press('Enter');
    for (const bad of [
      '/close abc',
      '/close 1005',
      '/binary zz',
      '/base64 !',
      '/file /no/such/file',
      '/nope',
      `/ping ${'p'.repeat(126)}`,
    ]) {
      t.type(bad);
      t.press('Enter');
    }
    let screen = await t.waitFor(/unknown command '\/nope'[\s\S]*126 bytes/);
    expect(screen).toContain("error: cannot send close code 'abc'");
    expect(screen).toContain("error: cannot send close code '1005'");
    expect(screen).toContain("error: not hex: 'z'");
    expect(screen).toContain('error: invalid base64');
    expect(screen).toContain("error: cannot read '/no/such/file': no such file");
    t.type('/status');
    t.press('Enter');
    screen = await t.waitFor(/last rtt\s+[\d.]+ ms/);
    expect(screen).toMatch(/messages\s+0 in, 1 out/);
    t.type('/headers');
    t.press('Enter');
    screen = await t.waitFor(/HTTP\/1.1 101 Switching Protocols/);
    expect(screen).toContain('Authorization: Basic ****');
    expect(screen).not.toContain(Buffer.from('alice:secret').toString('base64'));
    for (let i = 0; i < 40 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(got).toEqual([['00ff10', true]]);
    t.type('/quit');
    t.press('Enter');
    expect(await t.exited()).toEqual({ code: 0, sane: true });
  });

  it('tab completes command names; --no-slash sends /lines as text; //x sends /x', async () => {
    const got: string[] = [];
    const s = await track(wsServer((ws) => ws.on('message', (d) => got.push(String(d)))));
    const t = term([s.url, '--no-history']);
    await t.waitFor(/^> $/m);
    t.type('/sta');
    t.press('Tab');
    await t.waitFor(/^> \/status $/m);
    t.press('C-u');
    t.type('//literal');
    t.press('Enter');
    const t2 = term([s.url, '--no-history', '--no-slash']);
    await t2.waitFor(/^> $/m);
    t2.type('/ping');
    t2.press('Enter');
    for (let i = 0; i < 60 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect(got).toEqual(['/literal', '/ping']);
  });

  it('history persists (mode 0600), skips lines that start with a space, and Up recalls', async () => {
    const s = await track(echoServer());
    const t = term([s.url]);
    await t.waitFor(/^> $/m);
    t.type('first line');
    t.press('Enter');
    t.type(' secret line');
    t.press('Enter');
    await t.waitFor(/< {2}secret line/);
    t.press('C-d');
    expect((await t.exited()).code).toBe(0);
    const file = join(t.home, 'state', 'wsx', 'history');
    expect(readFileSync(file, 'utf8')).toBe('first line\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = term([s.url], { home: t.home });
    await again.waitFor(/^> $/m);
    again.press('Up');
    await again.waitFor(/^> first line$/m);
  });

  it('Ctrl-C clears a non-empty line; Ctrl-C on an empty line closes with 1000 and exits 0', async () => {
    const closes: number[] = [];
    const got: string[] = [];
    const s = await track(
      wsServer((ws) => {
        ws.on('message', (d) => got.push(String(d)));
        ws.on('close', (c) => closes.push(c));
      }),
    );
    const t = term([s.url, '--no-history']);
    await t.waitFor(/^> $/m);
    t.type('discard me');
    t.press('C-c');
    await t.waitFor(/\^C\n> $/m);
    t.press('C-c');
    expect(await t.exited()).toEqual({ code: 0, sane: true });
    expect(closes).toEqual([1000]);
    expect(got).toEqual([]);
  });

  it('a server close 4001 prints Disconnected and exits 3; a drop while typing exits 1 with the terminal sane', async () => {
    const s = await track(echoServer());
    const t = term([s.url, '--no-history']);
    await t.waitFor(/^> $/m);
    t.type('bye');
    t.press('Enter');
    const screen = await t.waitFor(/Disconnected: 4001 "custom bye"/);
    expect(screen).not.toMatch(/^> $/m);
    expect(await t.exited()).toEqual({ code: 3, sane: true });

    const d = await track(wsServer());
    const conn = d.nextConnection();
    const t2 = term([d.url, '--no-history']);
    await t2.waitFor(/^> $/m);
    t2.type('half');
    (await conn).ws.terminate();
    await t2.waitFor(/Disconnected: 1006 Abnormal Closure/);
    expect(await t2.exited()).toEqual({ code: 1, sane: true });
  });

  it('terminal safety: title, clipboard, clear-screen, cursor-report and 8-bit CSI change nothing', async () => {
    const got: string[] = [];
    const evil = 'A\x1b]2;PWNED\x07B\x1b]52;c;cHduZWQ=\x07C\x1b[6nD\x1b[2J\x9b5n\u202eE';
    const s = await track(
      wsServer((ws) => {
        ws.on('message', (d) => got.push(String(d)));
        ws.send(evil);
        ws.send(Buffer.from(evil), { binary: true });
      }),
    );
    const t = term([s.url, '--no-history']);
    const screen = await t.waitFor(/\[binary \d+ B\][\s\S]*^> $/m);
    expect(screen).toContain('Connected to');
    expect(screen).toContain('< A\\x1b]2;PWNED\\x07B');
    expect(t.title()).not.toContain('PWNED');
    // Nothing was typed into wsx by the terminal answering a report request.
    t.press('Enter');
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toEqual([]);
    expect(t.screen()).toMatch(/^> $/m);
  });

  it.runIf(has('openssl'))(
    'asks for the --passphrase of an encrypted client key without echo',
    async () => {
      const certs = makeCerts();
      const s = await track(
        tlsWsServer(
          {
            cert: certs.server.certPem,
            key: certs.server.keyPem,
            ca: certs.caPem,
            requestCert: true,
            rejectUnauthorized: true,
          },
          (ws) => ws.send('client certificate accepted'),
        ),
      );
      const url = s.url;
      const enc = certs.clientEncrypted;
      const t = term([
        url,
        '--no-history',
        '--ca',
        certs.ca,
        '--cert',
        enc.cert,
        '--key',
        enc.key,
        '--passphrase',
      ]);
      await t.waitFor(/Passphrase for/);
      t.type('hunter2');
      expect(t.screen()).not.toContain('hunter2');
      t.press('Enter');
      await t.waitFor(/< client certificate accepted/);
      t.press('C-d');
      expect((await t.exited()).code).toBe(0);
    },
  );

  it('asks for the --auth password without echo', async () => {
    const s = await track(wsServer());
    const conn = s.nextConnection();
    const t = term([s.url, '--no-history', '--auth', 'alice']);
    await t.waitFor(/Password for alice/);
    t.type('s3cret');
    const typed = t.screen();
    expect(typed).not.toContain('s3cret');
    t.press('Enter');
    const { req } = await conn;
    expect(req.headers.authorization).toBe(
      `Basic ${Buffer.from('alice:s3cret').toString('base64')}`,
    );
    await t.waitFor(/^> $/m);
  });
});
