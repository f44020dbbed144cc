// The built CLI speaking the Chrome DevTools Protocol to Debian's headless chromium: discovery
// through /json/version and --target page through /json/list, matched results, events by name
// (raw only with --events), error responses as exit 5, and a REPL session.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Chromium, startChromium } from '../fixtures/chromium.js';
import { runCli } from '../helpers/cli.js';
import { hasTmux, Terminal } from '../helpers/tmux.js';

const lines = (text: string) => text.split('\n').filter((l) => l !== '');

describe('cdp dialect against headless chromium', () => {
  let c: Chromium;
  beforeAll(async () => {
    c = await startChromium();
  }, 30_000);
  afterAll(() => c.close());

  it('an http://host:port URL finds the browser through /json/version', async () => {
    const version = (await (await fetch(`${c.base}/json/version`)).json()) as {
      Browser: string;
      webSocketDebuggerUrl: string;
    };
    const r = await runCli(['--dialect', 'cdp', c.base, '-x', 'Browser.getVersion', '-v']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      `cdp: ${c.base}/json/version → ${version.Browser} ${version.webSocketDebuggerUrl}`,
    );
    const [line] = lines(r.out);
    expect(JSON.parse(line ?? '')).toMatchObject({ product: version.Browser });
  });

  it('--target page attaches to the page: results only in raw output', async () => {
    const r = await runCli([
      '--dialect',
      'cdp',
      c.base,
      '--target',
      'page',
      '-x',
      'Page.enable',
      '-x',
      'Page.navigate {"url":"data:text/html,<title>wsx-cdp</title>"}',
      '-x',
      'Runtime.evaluate {"expression":"6 * 7"}',
    ]);
    expect(r.code).toBe(0);
    const out = lines(r.out).map((l) => JSON.parse(l) as Record<string, unknown>);
    // Pipelined: the browser answers in the order it likes; raw lines come as the answers do.
    expect(out).toHaveLength(3);
    expect(out).toContainEqual({});
    expect(out.filter((o) => typeof o.frameId === 'string')).toHaveLength(1);
    expect(out).toContainEqual({ result: { type: 'number', value: 42, description: '42' } });
    // The page really navigated: its title is the one sent.
    const title = await runCli([
      '--dialect',
      'cdp',
      c.base,
      '--target',
      'page',
      '-x',
      'Runtime.evaluate {"expression":"document.title","returnByValue":true}',
    ]);
    expect(JSON.parse(title.out)).toMatchObject({ result: { value: 'wsx-cdp' } });
  });

  it('--events prints events too; --expect matches an event line', async () => {
    const r = await runCli([
      '--dialect',
      'cdp',
      c.base,
      '--target',
      'page',
      '--events',
      '-x',
      'Page.enable',
      '-x',
      'Page.navigate {"url":"data:text/html,<p>again</p>"}',
      '--expect',
      'Page\\.loadEventFired',
      '--timeout',
      '15',
    ]);
    expect(r.code).toBe(0);
    const events = lines(r.out)
      .map((l) => JSON.parse(l) as { method?: string })
      .filter((e) => e.method !== undefined)
      .map((e) => e.method);
    expect(events).toContain('Page.frameNavigated');
    expect(events.at(-1)).toBe('Page.loadEventFired');
  });

  it('without --events: --count and --expect see events, raw output does not print them', async () => {
    const base = [
      '--dialect',
      'cdp',
      c.base,
      '--target',
      'page',
      '-x',
      'Page.enable',
      '-x',
      'Page.navigate {"url":"data:text/html,<p>counted</p>"}',
      '--timeout',
      '15',
    ];
    // Two results and at least the navigation's events: more than the results alone.
    const counted = await runCli([...base, '--count', '4']);
    expect(counted.stderr).not.toMatch(/^error:/m);
    expect(counted.code).toBe(0);
    const out = lines(counted.out).map((l) => JSON.parse(l) as { method?: unknown });
    expect(out.length).toBeLessThanOrEqual(2);
    expect(out.filter((o) => o.method !== undefined)).toEqual([]);
    const expected = await runCli([...base, '--expect', 'Page\\.loadEventFired']);
    expect(expected.code).toBe(0);
    expect(expected.out).not.toContain('loadEventFired');
    expect(lines(expected.out)).toHaveLength(2);
  });

  it('pretty output names events and shows each result with its latency', async () => {
    const r = await runCli([
      '--dialect',
      'cdp',
      c.base,
      '--target',
      'page',
      '-x',
      'Runtime.enable',
      '-x',
      'Runtime.evaluate {"expression":"console.log(\'hi from page\')"}',
      '-w',
      '1',
      '--output',
      'pretty',
      '--no-pretty-json',
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/< \[#1 Runtime\.enable · [\d.]+ ms\] \{\}/);
    expect(r.out).toMatch(
      /< Runtime\.consoleAPICalled \{"type":"log","args":\[\{"type":"string","value":"hi from page"\}/,
    );
  });

  it('an unknown method is an error response: exit 5 naming it', async () => {
    const r = await runCli(['--dialect', 'cdp', c.base, '-x', 'Nope.nothing']);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(
      /error: Nope\.nothing \(#1\) failed: -32601 .*Nope\.nothing.*wasn.t found/,
    );
  });

  it('a --target that matches nothing is exit 1 listing the types there are', async () => {
    const r = await runCli([
      '--dialect',
      'cdp',
      c.base,
      '--target',
      'no-such-target',
      '-x',
      'Page.enable',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /error: cdp: no target matches --target no-such-target \(types: .*page/,
    );
  });

  it.runIf(hasTmux())('a REPL session on the page', async () => {
    const t = new Terminal([
      '--dialect',
      'cdp',
      c.base,
      '--target',
      'page',
      '--no-history',
      '--no-pretty-json',
    ]);
    try {
      await t.waitFor(/Connected to ws:\/\/127\.0\.0\.1:\d+\/devtools\/page\//);
      t.type('Runtime.evaluate {"expression":"[1,2,3].length"}');
      t.press('Enter');
      await t.waitFor(
        /< \[#1 Runtime\.evaluate · [\d.]+ ms\] \{"result":\{"type":"number","value":3/,
      );
      t.type('/quit');
      t.press('Enter');
      expect((await t.exited()).code).toBe(0);
    } finally {
      t.kill();
    }
  });
});
