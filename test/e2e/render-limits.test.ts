// Hostile payloads through the built CLI: rendering stays linear in the message size (defect 2).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, wsServer } from '../fixtures/servers.js';
import { runCli } from '../helpers/cli.js';

const NESTED_32K = `${'['.repeat(32_000)}${']'.repeat(32_000)}`;
const NESTED_16K = `${'['.repeat(16_000)}${']'.repeat(16_000)}`;
const CONTROL_BYTES = 45_000_000;

let server: TestServer;
beforeAll(async () => {
  server = await wsServer((ws, req) => {
    const what = req.url ?? '/';
    if (what === '/nested') {
      ws.send(NESTED_32K);
      ws.send(NESTED_16K);
    } else if (what === '/controls') {
      ws.send(Buffer.alloc(CONTROL_BYTES, 1), { binary: false });
    }
  });
});
afterAll(() => server.close());

/**
 * The JS heap is capped: the old renderer needed 1.5 GB for 16,000 levels and 3.2 GB for the
 * 45 MB message before it threw; linear rendering keeps its strings far below this.
 */
const SMALL_HEAP = { NODE_OPTIONS: '--max-old-space-size=256' };

describe('rendering hostile payloads', () => {
  it('32,000 and 16,000 nested brackets, pretty: one escaped line each, exit 0, no stack trace', async () => {
    const r = await runCli(
      [`${server.url}nested`, '--output', 'pretty', '--count', '2', '--color'],
      { env: SMALL_HEAP, timeoutMs: 30_000 },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const plain = r.out.replace(/\x1b\[[0-9;]*m/g, '');
    expect(plain).toContain(`\n< ${NESTED_32K}\n< ${NESTED_16K}\n`);
    expect(r.stdout.length).toBeLessThan(2 * (NESTED_32K.length + NESTED_16K.length) + 4096);
  });
  it('--max-display 0 --color, a 45 MB message of \\x01: every byte shown escaped, exit 0', async () => {
    const r = await runCli(
      [
        `${server.url}controls`,
        '--output',
        'pretty',
        '--count',
        '1',
        '--color',
        '--max-display',
        '0',
      ],
      { env: SMALL_HEAP, timeoutMs: 150_000 },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const text = r.stdout.toString('latin1').replace(/\x1b\[[0-9;]*m/g, '');
    const at = text.indexOf('< ');
    const line = text.slice(at, text.indexOf('\n', at) + 1);
    expect(line.length).toBe(2 + 4 * CONTROL_BYTES + 1);
    expect(line.startsWith('< \\x01\\x01')).toBe(true);
    // Colour codes once per run of escapes (one per 64 Ki slice), not once per character.
    expect(r.stdout.length - 4 * CONTROL_BYTES).toBeLessThan(20_000);
  }, 180_000);
});
