// Start-up is a feature (DESIGN.md): a plain run must not load the Node modules only rare paths
// need. Checked on the built CLI through process.moduleLoadList, not by timing.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { echoServer } from '../fixtures/servers.js';
import { runCli } from '../helpers/cli.js';
import { tracker } from '../helpers/spawn.js';

const track = tracker();

describe('start-up loads only what the run needs', () => {
  it('a plain -x run loads no child_process, perf_hooks or fs/promises', async () => {
    const s = await track(echoServer());
    const dir = mkdtempSync(join(tmpdir(), 'wsx-startup-'));
    const out = join(dir, 'modules.txt');
    const preload = join(dir, 'record.cjs');
    writeFileSync(
      preload,
      `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(out)}, process.moduleLoadList.join('\\n')));\n`,
    );
    const r = await runCli([s.url, '-x', 'hello', '-w', '0'], {
      env: { NODE_OPTIONS: `--require ${preload}` },
    });
    expect(r.code).toBe(0);
    expect(r.out).toBe('hello\n');
    const loaded = readFileSync(out, 'utf8').split('\n');
    for (const name of ['child_process', 'perf_hooks', 'fs/promises', 'dgram']) {
      expect(loaded, name).not.toContain(`NativeModule ${name}`);
    }
    // The proof that the list is real: what the run does need is in it.
    expect(loaded).toContain('NativeModule net');
  });
});
