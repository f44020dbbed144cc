// `wsx URL --exec CMD` (SPEC §13, §17): a program talks to the server through its stdio, against
// Debian's websocketd and a ws server; how the run ends and whose exit status wins.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { sha256, until, websocketd } from '../fixtures/bridges.js';
import { has } from '../fixtures/proxies.js';
import { type WsTestServer, wsServer } from '../fixtures/servers.js';
import { runCli } from '../helpers/cli.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'wsx-exec-'));

describe.runIf(has('websocketd'))('--exec against websocketd', () => {
  it('the program converses line by line; its exit status 4 becomes wsx’s', async () => {
    const d = await websocketd('while read l; do echo "echo:$l"; done');
    try {
      const log = join(tmp(), 'log');
      const r = await runCli([
        d.url,
        '--exec',
        `echo hi; read r; echo "$r" > ${log}; echo again; read r; echo "$r" >> ${log}; exit 4`,
      ]);
      expect(readFileSync(log, 'utf8')).toBe('echo:hi\necho:again\n');
      expect(r.code).toBe(4);
      expect(r.stderr).toBe('note: the program exited with status 4\n');
      expect(r.out).toBe('');
    } finally {
      await d.close();
    }
  });
});

describe('--exec against a ws server', () => {
  let server: WsTestServer;
  let behaviour: (ws: WebSocket) => void = () => {};
  const sessions: Array<{ messages: Array<{ text: string; binary: boolean }>; close?: number }> =
    [];
  beforeAll(async () => {
    server = await wsServer((ws) => {
      const s: (typeof sessions)[number] = { messages: [] };
      sessions.push(s);
      ws.on('message', (d: Buffer, binary) => s.messages.push({ text: d.toString(), binary }));
      ws.on('close', (code) => {
        s.close = code;
      });
      behaviour(ws);
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('every line of output is a text message, all sent before the close (1000); exit 0', async () => {
    behaviour = () => {};
    const r = await runCli([server.url, '--exec', 'seq 1 500; printf "last without newline"']);
    expect(r.code, r.stderr).toBe(0);
    const s = sessions.at(-1);
    const want = [...Array.from({ length: 500 }, (_, i) => String(i + 1)), 'last without newline'];
    expect(s?.messages.map((m) => m.text)).toEqual(want);
    expect(s?.messages.every((m) => !m.binary)).toBe(true);
    await until(() => s?.close !== undefined, 'the server to see the close');
    expect(s?.close).toBe(1000);
  });

  it('the server closing first: stdin closes, a program still running gets SIGTERM 2 s later, and the close decides the status (4001 → 3)', async () => {
    behaviour = (ws) => setTimeout(() => ws.close(4001, 'go away'), 100);
    const log = join(tmp(), 'log');
    const r = await runCli([
      server.url,
      '--exec',
      `trap 'echo term > ${log}; exit 9' TERM; while :; do sleep 0.1; done`,
    ]);
    expect(readFileSync(log, 'utf8')).toBe('term\n');
    // A program wsx had to stop does not change the status.
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('Disconnected: 4001 "go away"');
  });

  it('the server closing normally and the program then exiting 7 on its own: exit 7', async () => {
    behaviour = (ws) => {
      ws.send('only message');
      ws.close(1000);
    };
    const r = await runCli([
      server.url,
      '--exec',
      'read l; test "$l" = "only message" && cat >/dev/null; exit 7',
    ]);
    expect(r.code).toBe(7);
    expect(r.stderr).toBe('note: the program exited with status 7\n');
  });

  it('--stream --exec: bytes both ways in binary messages', async () => {
    const data = randomBytes(10_000_000);
    behaviour = (ws) => {
      for (let i = 0; i < data.length; i += 65536) ws.send(data.subarray(i, i + 65536));
    };
    const r = await runCli([
      server.url,
      '--stream',
      '--exec',
      `head -c ${data.length} | sha256sum`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const s = sessions.at(-1);
    expect(s?.messages).toEqual([{ text: `${sha256(data)}  -\n`, binary: true }]);
    await until(() => s?.close !== undefined, 'the server to see the close');
    expect(s?.close).toBe(1000);
  });

  it('a connection that fails: exit 1, the program never starts', async () => {
    const log = join(tmp(), 'log');
    const r = await runCli(['ws://127.0.0.1:1/', '--exec', `echo started > ${log}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: connection refused/);
    expect(() => readFileSync(log)).toThrow();
  });
});
