// The built CLI speaking JSON-RPC 2.0 to a real server (rpc-websockets): method lines with ids,
// pipelined requests matched out of order, latency in pretty output, notifications both ways,
// full-object lines, error responses as exit 5, and a REPL session.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JsonRpcFixture, startJsonRpcServer } from '../fixtures/jsonrpc-server.js';
import { runCli } from '../helpers/cli.js';
import { hasTmux, Terminal } from '../helpers/tmux.js';

describe('jsonrpc dialect against rpc-websockets', () => {
  let s: JsonRpcFixture;
  beforeAll(async () => {
    s = await startJsonRpcServer();
  });
  afterAll(() => s.close());

  it('-x method prints the result (raw: one JSON line) and exits 0', async () => {
    s.calls.length = 0;
    const r = await runCli(['--dialect', 'jsonrpc', s.url, '-x', 'eth_blockNumber']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe('"0x1b4"\n');
    expect(s.calls).toEqual(['eth_blockNumber']);
  });

  it('requests are pipelined and matched by id, whatever order the responses come in', async () => {
    s.calls.length = 0;
    const r = await runCli([
      '--dialect',
      'jsonrpc',
      s.url,
      '-x',
      'slow [300]',
      '-x',
      'sum [1, 2, 3]',
      '--output',
      'pretty',
    ]);
    expect(r.code).toBe(0);
    // Both were sent before the slow one was answered: sum's response comes first.
    expect(s.calls).toEqual(['slow', 'sum']);
    const sum = r.out.indexOf('< [#2 sum · ');
    const slow = r.out.indexOf('< [#1 slow · ');
    expect(sum).toBeGreaterThan(-1);
    expect(slow).toBeGreaterThan(sum);
    expect(r.out).toMatch(/< \[#2 sum · \d+\.\d ms\] 6/);
    expect(r.out).toMatch(/< \[#1 slow · \d+\.\d ms\] "done"/);
  });

  it('an error response: shown with its code, exit 5, raw stdout keeps results only', async () => {
    const r = await runCli(['--dialect', 'jsonrpc', s.url, '-x', 'sum [2, 2]', '-x', 'fail']);
    expect(r.code).toBe(5);
    expect(r.out).toBe('4\n');
    expect(r.stderr).toContain('error: fail (#2) failed: -32000');
    expect(r.stderr).toContain('execution reverted');
    const pretty = await runCli([
      '--dialect',
      'jsonrpc',
      s.url,
      '-x',
      'fail',
      '--output',
      'pretty',
    ]);
    expect(pretty.out).toMatch(/< \[#1 fail · error -32000\] /);
  });

  it('server notifications by name, /notify, and full objects get an id added', async () => {
    s.calls.length = 0;
    const r = await runCli([
      '--dialect',
      'jsonrpc',
      s.url,
      '-x',
      'rpc.on ["ticked"]',
      '-x',
      '/notify tick [7]',
      '-x',
      '{"jsonrpc":"2.0","method":"echo","params":{"a":1}}',
      '--output',
      'pretty',
      '--no-pretty-json',
    ]);
    expect(r.code).toBe(0);
    expect(s.calls).toEqual(['tick', 'echo']);
    expect(r.out).toContain('< [ticked] {"n":7}');
    expect(r.out).toContain('> [tick] [7]');
    expect(r.out).toMatch(/< \[#2 echo · [\d.]+ ms\] \{"a":1\}/);
  });

  it('json output: the dialect object names the method, id and latency', async () => {
    const r = await runCli(['--dialect', 'jsonrpc', s.url, '-x', 'sum [5]', '--json']);
    const events = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { direction?: string; dialect?: Record<string, unknown> });
    const response = events.find((e) => e.direction === 'in')?.dialect;
    expect(response).toMatchObject({ type: 'response', id: 1, method: 'sum', result: 5 });
    expect(typeof response?.latencyMs).toBe('number');
  });

  it('a bad params line is a usage error, nothing is sent for it', async () => {
    s.calls.length = 0;
    const r = await runCli(['--dialect', 'jsonrpc', s.url, '-x', 'sum [1,', '-x', 'sum [1]']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: the params of sum are not JSON');
    expect(s.calls).toEqual(['sum']);
  });
});

describe.runIf(hasTmux())('jsonrpc in the REPL', () => {
  it('typed method lines and /notify', async () => {
    const s = await startJsonRpcServer();
    const t = new Terminal(['--dialect', 'jsonrpc', s.url, '--no-history', '--no-pretty-json']);
    try {
      await t.waitFor(/Connected to /);
      t.type('sum [20, 22]');
      t.press('Enter');
      await t.waitFor(/< \[#1 sum · [\d.]+ ms\] 42/);
      t.type('rpc.on ["ticked"]');
      t.press('Enter');
      await t.waitFor(/< \[#2 rpc\.on/);
      t.type('/notify tick [3]');
      t.press('Enter');
      await t.waitFor(/< \[ticked\] \{"n":3\}/);
      t.type('/quit');
      t.press('Enter');
      expect((await t.exited()).code).toBe(0);
    } finally {
      t.kill();
      await s.close();
    }
  });
});
