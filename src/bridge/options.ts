// Pure: the byte-stream and bridge flags (--stream, --tcp-listen, --to, --exec) → BridgeOptions,
// with their usage errors (SPEC §13). Called once from options.ts.

import { usageError } from '../errors.js';

/** Where `-l --to` sends each client's bytes. */
export type BridgeTarget =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'unix'; path: string };

export type BridgeOptions =
  /** Client: stdin/stdout ⇄ one WebSocket (ssh ProxyCommand). */
  | { kind: 'stream'; waitGiven: boolean }
  /** Client: a local port forward; every TCP connection gets its own WebSocket. */
  | { kind: 'tcp-listen'; host: string; port: number }
  /** Client or listen: a program's stdio ⇄ the WebSocket; lines ↔ text messages unless stream. */
  | { kind: 'exec'; command: string; stream: boolean; waitGiven: boolean }
  /** Listen: websockify; each client gets its own TCP (or Unix socket) connection. */
  | { kind: 'to'; target: BridgeTarget };

export interface BridgeFlags {
  stream?: boolean;
  tcpListen?: string;
  to?: string;
  exec?: string;
  // Flags that mean nothing in a byte stream, checked so the user hears about it.
  execute?: string[];
  null?: boolean;
  split?: boolean;
  count?: string;
  expect?: string;
  replay?: string;
  reconnect?: string | boolean;
  echo?: boolean;
  broadcast?: boolean;
  wait?: string;
}

/** Describe a target the way the user wrote it: `tcp:127.0.0.1:22`, `unix:/run/x.sock`. */
export function describeTarget(t: BridgeTarget): string {
  if (t.kind === 'unix') return `unix:${t.path}`;
  return `tcp:${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
}

function parsePort(raw: string, what: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > 65535) throw usageError(`${what}: '${raw}' is not a port number`);
  return n;
}

/** `[host:]port`, `[::1]:port` → host and port (host defaults to 127.0.0.1). */
export function parseHostPort(
  raw: string,
  what: string,
  needHost: boolean,
): { host: string; port: number } {
  const value = raw.trim();
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(value);
  if (v6?.[1] && v6[2]) return { host: v6[1], port: parsePort(v6[2], what) };
  const colon = value.lastIndexOf(':');
  if (colon === -1) {
    if (needHost) throw usageError(`${what}: '${raw}' needs a host and a port (host:port)`);
    return { host: '127.0.0.1', port: parsePort(value, what) };
  }
  const host = value.slice(0, colon);
  if (host === '' || host.includes(':')) {
    throw usageError(`${what}: '${raw}' is not host:port`, 'write an IPv6 address as [::1]:port');
  }
  return { host, port: parsePort(value.slice(colon + 1), what) };
}

export function parseTarget(raw: string): BridgeTarget {
  if (raw.startsWith('unix:')) {
    const path = raw.slice(5);
    if (path === '') throw usageError(`--to unix: needs a socket path, e.g. unix:/run/app.sock`);
    return { kind: 'unix', path };
  }
  if (raw.startsWith('tcp:')) {
    const { host, port } = parseHostPort(raw.slice(4), '--to', true);
    if (port === 0) throw usageError(`--to: port 0 is not a target`);
    return { kind: 'tcp', host, port };
  }
  throw usageError(
    `--to takes tcp:HOST:PORT or unix:PATH, not '${raw}'`,
    'e.g. --to tcp:127.0.0.1:22',
  );
}

/** The bridge this run is, or undefined for an ordinary message session. */
export function parseBridgeOptions(
  flags: BridgeFlags,
  mode: 'client' | 'listen',
): BridgeOptions | undefined {
  const stream = flags.stream === true;
  if (
    !stream &&
    flags.tcpListen === undefined &&
    flags.to === undefined &&
    flags.exec === undefined
  ) {
    return undefined;
  }
  const name =
    flags.tcpListen !== undefined
      ? '--tcp-listen'
      : flags.to !== undefined
        ? '--to'
        : flags.exec !== undefined
          ? '--exec'
          : '--stream';
  const clash: Array<[boolean, string]> = [
    [(flags.execute ?? []).length > 0, '-x'],
    [flags.null === true, '-0'],
    [flags.split === false, '--no-split'],
    [flags.count !== undefined, '--count'],
    [flags.expect !== undefined, '--expect'],
    [flags.replay !== undefined, '--replay'],
    [flags.reconnect !== undefined && flags.reconnect !== false, '--reconnect'],
    [flags.echo === true, '--echo'],
    [flags.broadcast === true, '--broadcast'],
  ];
  for (const [given, flag] of clash) {
    if (given) {
      throw usageError(
        `${flag} cannot be used with ${name}: it carries bytes, not messages`,
        name === '--stream' ? 'pipe the data into wsx --stream instead' : undefined,
      );
    }
  }
  if (flags.to !== undefined && flags.exec !== undefined) {
    throw usageError('--to and --exec exclude each other: give one target per listener');
  }
  if (flags.tcpListen !== undefined && flags.exec !== undefined) {
    throw usageError('--tcp-listen and --exec exclude each other');
  }
  const waitGiven = flags.wait !== undefined;
  if (flags.exec !== undefined) {
    if (flags.exec.trim() === '') throw usageError('--exec needs a command');
    return { kind: 'exec', command: flags.exec, stream, waitGiven };
  }
  if (mode === 'listen') {
    if (flags.to === undefined) {
      throw usageError(
        '-l --stream needs a target: --to tcp:HOST:PORT, --to unix:PATH or --exec CMD',
      );
    }
    return { kind: 'to', target: parseTarget(flags.to) };
  }
  if (flags.tcpListen !== undefined) {
    if (waitGiven) throw usageError('-w cannot be used with --tcp-listen');
    return { kind: 'tcp-listen', ...parseHostPort(flags.tcpListen, '--tcp-listen', false) };
  }
  return { kind: 'stream', waitGiven };
}
