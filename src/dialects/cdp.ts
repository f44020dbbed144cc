// The cdp dialect (SPEC §12): the Chrome DevTools Protocol. `Domain.method [params]` lines,
// matched responses, events by name; an http://host:port URL is resolved through /json/version
// (the browser) or, with --target, /json/list (a page or other target).

import { WsxError } from '../errors.js';
import type { ConnectOptions } from '../options.js';
import type { DialectSpec, PrepareEnv } from './dialect.js';
import { RpcDialect, type RpcState } from './rpc.js';

interface Target {
  id?: string;
  type?: string;
  title?: string;
  url?: string;
  webSocketDebuggerUrl?: string;
}

async function getJson(url: string, timeoutMs: number): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new WsxError(
      'connect',
      `cdp: cannot reach ${url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
      {
        code: cause?.code ?? 'CDP_DISCOVERY',
        hint: 'is the browser running with --remote-debugging-port?',
      },
    );
  }
  const body = await res.text();
  if (!res.ok) {
    throw new WsxError('connect', `cdp: ${url} answered ${res.status} ${res.statusText}`, {
      code: 'HTTP_STATUS',
    });
  }
  try {
    return JSON.parse(body);
  } catch {
    throw new WsxError('connect', `cdp: ${url} did not answer JSON`, { code: 'CDP_DISCOVERY' });
  }
}

/** --target: a type (page, worker…), then an id, then a part of the URL or title. */
function pickTarget(list: Target[], want: string): Target | undefined {
  const usable = list.filter((t) => typeof t.webSocketDebuggerUrl === 'string');
  return (
    usable.find((t) => t.type === want) ??
    usable.find((t) => t.id === want) ??
    usable.find((t) => t.url?.includes(want) || t.title?.includes(want))
  );
}

async function discover(
  connect: ConnectOptions,
  env: PrepareEnv<RpcState>,
): Promise<ConnectOptions> {
  const u = new URL(connect.url);
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') return connect;
  const want = env.options.target;
  // A WebSocket path given as is (ws://…/devtools/page/ID) needs no discovery.
  if (want === undefined && u.pathname !== '/' && u.pathname !== '') return connect;
  const base = `${u.protocol === 'wss:' ? 'https:' : 'http:'}//${u.host}`;
  let ws: string | undefined;
  if (want !== undefined) {
    const list = await getJson(`${base}/json/list`, connect.handshakeTimeoutMs);
    const targets = Array.isArray(list) ? (list as Target[]) : [];
    const t = pickTarget(targets, want);
    if (!t) {
      const seen = [...new Set(targets.map((x) => x.type).filter(Boolean))].join(', ') || 'none';
      throw new WsxError('connect', `cdp: no target matches --target ${want} (types: ${seen})`, {
        code: 'CDP_TARGET',
      });
    }
    ws = t.webSocketDebuggerUrl;
    env.ctx.verbose?.(`cdp: ${base}/json/list → ${t.type ?? '?'} ${t.id ?? ''} ${ws}`);
  } else {
    const v = (await getJson(`${base}/json/version`, connect.handshakeTimeoutMs)) as {
      webSocketDebuggerUrl?: unknown;
      Browser?: unknown;
    };
    if (typeof v?.webSocketDebuggerUrl !== 'string') {
      throw new WsxError('connect', `cdp: ${base}/json/version has no webSocketDebuggerUrl`, {
        code: 'CDP_DISCOVERY',
      });
    }
    ws = v.webSocketDebuggerUrl;
    env.ctx.verbose?.(`cdp: ${base}/json/version → ${String(v.Browser ?? '')} ${ws}`);
  }
  return { ...connect, url: ws ?? connect.url };
}

export const cdp: DialectSpec<RpcState> = {
  name: 'cdp',
  subprotocols: [],
  commands: [],
  initialState: () => ({ nextId: 1 }),
  prepare: discover,
  create: (inner, env) => new RpcDialect(inner, env, [], true),
};
