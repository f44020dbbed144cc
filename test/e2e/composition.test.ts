// The layers compose across features: a JSON-RPC "server" made of wsx -l --http2 with --reply
// (a conversation template per client), and a wsx --http2-only --dialect jsonrpc client with
// --count. Both ends are the built CLI; the stream is a real RFC 8441 extended CONNECT.

import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/cli.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('features compose', () => {
  it('a JSON-RPC dialect client over HTTP/2 against a listen-mode --reply server', async () => {
    const server = spawn(
      process.execPath,
      [
        BIN,
        '-l',
        '0',
        '--http2',
        '--reply',
        '"id":(?<id>\\d+),"method":"(?<m>\\w+)"=>{"jsonrpc":"2.0","id":{{id}},"result":"{{m}} done"}',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let err = '';
    let out = '';
    server.stderr.on('data', (d) => {
      err += d;
    });
    server.stdout.on('data', (d) => {
      out += d;
    });
    try {
      for (let i = 0; i < 100 && !/Listening on/.test(err); i++) await sleep(50);
      const port = Number(/127\.0\.0\.1:(\d+)/.exec(err)?.[1]);
      const r = await runCli([
        '--http2-only',
        '--dialect',
        'jsonrpc',
        `ws://127.0.0.1:${port}/`,
        '-x',
        'build',
        '-x',
        'deploy ["prod"]',
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      // Raw output: each result as one JSON line, matched to its request.
      expect(r.out).toBe('"build done"\n"deploy done"\n');
      // The server side saw the dialect's requests, with ids 1 and 2, over HTTP/2.
      expect(out).toContain('{"jsonrpc":"2.0","id":1,"method":"build"}');
      expect(out).toContain('{"jsonrpc":"2.0","id":2,"method":"deploy","params":["prod"]}');
    } finally {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('close', r));
    }
  });
});
