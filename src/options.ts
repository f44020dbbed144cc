// Pure: raw CLI flags → a validated, normalised Options value. Every usage error is raised here,
// before any socket is opened.

import { type BridgeOptions, parseBridgeOptions } from './bridge/options.js';
import { type ConversationOptions, withConversation } from './conversation/options.js';
import { type DialectOptions, parseDialectOptions } from './dialects/options.js';
import { usageError } from './errors.js';
import { flagsOutsideMode } from './flags.js';
import { type Http2Mode, parseHttp2Option } from './transport/http2-options.js';

export type OutputFormat = 'pretty' | 'raw' | 'json';

export interface OutputOptions {
  format: OutputFormat;
  /** Colour on stdout / stderr. */
  color: boolean;
  colorErr: boolean;
  prettyJson: boolean;
  hidePingPong: boolean;
  timestamps: boolean;
  /** Bytes of a message shown in pretty mode; 0 = everything. */
  maxDisplay: number;
  /** Raw mode: how binary messages are written. */
  binaryAs: 'raw' | 'hex' | 'base64';
  quiet: boolean;
  verbose: boolean;
  /** --record: append every event, as json lines, to this file. */
  record: string | undefined;
}

export interface ConnectOptions {
  url: string;
  headers: Array<[string, string]>;
  subprotocols: string[];
  origin: string | undefined;
  host: string | undefined;
  /** Basic auth; password undefined = ask for it (only when stdin is a terminal). */
  auth: { user: string; pass: string | undefined } | undefined;
  protocolVersion: 8 | 13;
  compress: boolean;
  /** --http2 / --http2-only (RFC 8441). */
  http2: Http2Mode;
  maxMessageSize: number;
  handshakeTimeoutMs: number;
  tls: TlsOptions;
  /** An explicit --proxy URL; undefined = from the environment unless noProxy. */
  proxy: string | undefined;
  noProxy: boolean;
  followRedirects: boolean;
  maxRedirects: number;
}

export interface TlsOptions {
  /** Paths as given; read and checked in prepare.ts. */
  ca: string | undefined;
  cert: string | undefined;
  key: string | undefined;
  /** 'ask' = --passphrase without a value (asked for, hidden, on a terminal). */
  passphrase: string | 'ask' | undefined;
  insecure: boolean;
}

export type SessionMode = 'repl' | 'pipe' | 'execute';

export interface SessionOptions {
  mode: SessionMode;
  execute: string[];
  framing: 'line' | 'null' | 'whole';
  binary: boolean;
  /** After end of input: ms to keep receiving; -1 = until the server closes. */
  waitMs: number;
  /** -w was given (dialects close at once after their responses unless it was). */
  waitGiven: boolean;
  /** --await-timeout: how long an --await step, or the end of input's wait for outstanding
   * responses, may take (ms). */
  awaitTimeoutMs: number;
  count: number | undefined;
  expect: RegExp | undefined;
  timeoutMs: number | undefined;
  /** --ping-interval: send a keepalive ping this often (ms). */
  pingIntervalMs: number | undefined;
  /** --ping-timeout: a ping unanswered this long (ms) means the connection is dead. */
  pingTimeoutMs: number | undefined;
  /** --reconnect [n]: reconnects allowed after a failed connect or an abnormal ending (Infinity = no limit). */
  reconnect: number | undefined;
  /** --replay: send the outgoing messages of this recording; speed 0 = as fast as possible. */
  replay: { file: string; speed: number } | undefined;
  slash: boolean;
  history: boolean;
}

export interface ClientOptions {
  kind: 'client';
  /** True for --demo: the url is filled in once the built-in server listens. */
  demo: boolean;
  connect: ConnectOptions;
  session: SessionOptions;
  output: OutputOptions;
  /** --dialect and its options (src/dialects/options.ts). */
  dialect: DialectOptions;
  /** -x/--await steps, --reply, --heartbeat, templates, --decode/--encode, --filter. */
  conversation: ConversationOptions;
  /** --stream, --tcp-listen, --exec: a byte bridge instead of a message session (src/bridge/). */
  bridge?: BridgeOptions;
}

export interface ListenOptions {
  kind: 'listen';
  port: number;
  bind: string;
  echo: boolean;
  broadcast: boolean;
  once: boolean;
  /** --max-backlog: a client with more unsent bytes than this is closed with 1008. */
  maxBacklog: number;
  /** -s: accept only clients offering one of these; [] = accept any (and pick none). */
  subprotocols: string[];
  tls: TlsOptions;
  compress: boolean;
  /** --http2: also serve RFC 8441 streams (h2 via ALPN with TLS, h2c prior knowledge without). */
  http2: boolean;
  maxMessageSize: number;
  session: SessionOptions;
  output: OutputOptions;
  /** --reply, --heartbeat, -x/--await steps per client, --decode/--encode, --filter. */
  conversation: ConversationOptions;
  /** -l --to, -l --exec: a byte bridge per client instead of the hub (src/bridge/). */
  bridge?: BridgeOptions;
}

export type Options = ClientOptions | ListenOptions;

/** What the CLI layer read from argv, before validation. Strings are as typed. */
export interface RawFlags {
  url?: string;
  connect?: string;
  demo?: boolean;
  execute?: string[];
  wait?: string;
  awaitTimeout?: string;
  null?: boolean;
  split?: boolean;
  binary?: boolean;
  count?: string;
  expect?: string;
  timeout?: string;
  pingInterval?: string;
  pingTimeout?: string;
  record?: string;
  replay?: string;
  replaySpeed?: string;
  /** --reconnect alone gives true; with a value, the string */
  reconnect?: string | boolean;
  output?: string;
  json?: boolean;
  prettyJson?: boolean;
  hidePingPong?: boolean;
  timestamps?: boolean;
  maxDisplay?: string;
  binaryAs?: string;
  quiet?: boolean;
  verbose?: boolean;
  color?: boolean;
  header?: string[];
  subprotocol?: string[];
  origin?: string;
  host?: string;
  auth?: string;
  protocolVersion?: string;
  compress?: boolean;
  http2?: boolean;
  http2Only?: boolean;
  maxMessageSize?: string;
  handshakeTimeout?: string;
  ca?: string;
  cert?: string;
  key?: string;
  passphrase?: string | boolean;
  insecure?: boolean;
  /** commander's --no-check (alias of -k) */
  check?: boolean;
  /** --proxy <url> gives a string, --no-proxy gives false */
  proxy?: string | false;
  location?: boolean;
  maxRedirects?: string;
  slash?: boolean;
  history?: boolean;
  listen?: string;
  bind?: string;
  echo?: boolean;
  broadcast?: boolean;
  once?: boolean;
  dialect?: string;
  init?: string;
  socketioVersion?: string;
  socketioPath?: string;
  variables?: string;
  target?: string;
  events?: boolean;
  // stomp and mqtt (src/dialects/broker-options.ts)
  sub?: string[];
  pub?: string;
  qos?: string;
  vhost?: string;
  clientId?: string;
  keepalive?: string;
  mqttVersion?: string;
  // Conversations and views (src/conversation/options.ts)
  await?: string[];
  /** -x and --await in command-line order (cli.ts collects them). */
  steps?: Array<{ kind: 'execute' | 'await'; value: string }>;
  reply?: string[];
  heartbeat?: string[];
  var?: string[];
  template?: boolean;
  decode?: string;
  decodeRaw?: boolean;
  encode?: string;
  proto?: string;
  type?: string;
  filter?: string;
  // Streams and bridges (src/bridge/options.ts)
  stream?: boolean;
  tcpListen?: string;
  to?: string;
  exec?: string;
  maxBacklog?: string;
}

/** Facts about the process the options depend on; injected so this module stays pure. */
export interface Environment {
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  env: Readonly<Record<string, string | undefined>>;
}

const MiB = 1024 * 1024;

export function parseOptions(flags: RawFlags, environment: Environment): Options {
  const mode = flags.listen !== undefined ? 'listen' : 'client';
  const [outside] = flagsOutsideMode(flags as Record<string, unknown>, mode);
  if (outside !== undefined) {
    throw usageError(
      mode === 'listen'
        ? `${outside} cannot be used with -l (listen mode)`
        : `${outside} is for listen mode (-l <port>)`,
    );
  }
  const bridge = parseBridgeOptions(flags, mode);
  if (flags.listen !== undefined) return { ...parseListen(flags, environment), bridge };
  if (flags.url !== undefined && flags.connect !== undefined) {
    throw usageError('give the URL once: either as an argument or with -c');
  }
  const given = flags.connect ?? flags.url;
  const demo = flags.demo === true;
  if (demo && given !== undefined) throw usageError('--demo starts its own server: drop the URL');
  if (!demo && given === undefined) {
    throw usageError('no URL given', 'try: wsx ws://localhost:8080, or wsx --demo');
  }

  const output = parseOutput(flags, environment);
  const connect: ConnectOptions = {
    url: demo ? '' : normaliseUrl(given ?? ''),
    headers: (flags.header ?? []).map(parseHeader),
    subprotocols: parseSubprotocols(flags.subprotocol),
    origin: flags.origin === undefined ? undefined : parseHeaderValue('-o', flags.origin),
    host: flags.host === undefined ? undefined : parseHeaderValue('--host', flags.host),
    auth: flags.auth === undefined ? undefined : parseAuth(flags.auth, environment.stdinIsTTY),
    protocolVersion: parseProtocolVersion(flags.protocolVersion),
    compress: flags.compress !== false,
    http2: parseHttp2Option(flags),
    maxMessageSize: parseBytes('--max-message-size', flags.maxMessageSize, 100 * MiB, 1),
    handshakeTimeoutMs: parsePositiveSeconds('--handshake-timeout', flags.handshakeTimeout, 10),
    tls: parseTls(flags, environment.stdinIsTTY),
    proxy: typeof flags.proxy === 'string' ? parseProxyUrl(flags.proxy) : undefined,
    noProxy: flags.proxy === false,
    followRedirects: flags.location === true,
    maxRedirects: flags.maxRedirects === undefined ? 10 : parseMaxRedirects(flags.maxRedirects),
  };

  if (bridge && demo)
    throw usageError('--demo cannot be used with --stream, --tcp-listen or --exec');
  return {
    kind: 'client',
    demo,
    connect,
    ...withConversation(flags, environment.env, 'client', parseSession(flags, environment)),
    output,
    bridge,
    dialect: parseDialectOptions(flags),
  };
}

function parseListen(flags: RawFlags, environment: Environment): ListenOptions {
  if (flags.url !== undefined) throw usageError('a URL cannot be used with -l (listen mode)');
  const raw = flags.listen ?? '';
  const port = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || port > 65535) {
    throw usageError(`-l takes a port number from 0 to 65535, not '${raw}'`);
  }
  const tls = parseTls(flags, environment.stdinIsTTY);
  return {
    kind: 'listen',
    port,
    bind: parseBind(flags.bind ?? '127.0.0.1'),
    echo: flags.echo === true,
    broadcast: flags.broadcast === true,
    once: flags.once === true,
    maxBacklog: parseBytes('--max-backlog', flags.maxBacklog, 16 * MiB, 1024),
    subprotocols: parseSubprotocols(flags.subprotocol),
    tls,
    compress: flags.compress !== false,
    http2: flags.http2 === true,
    maxMessageSize: parseBytes('--max-message-size', flags.maxMessageSize, 100 * MiB, 1),
    ...withConversation(flags, environment.env, 'listen', parseSession(flags, environment)),
    output: parseOutput(flags, environment),
  };
}

/** IPv4 dotted quad or IPv6 (WHATWG URL parsing), without loading node:net at start-up. */
function isIp(value: string): boolean {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(value);
  if (v4) return v4.slice(1).every((n) => Number(n) <= 255);
  if (!value.includes(':')) return false;
  try {
    new URL(`http://[${value}]/`);
    return true;
  } catch {
    return false;
  }
}

/** An IPv4/IPv6 address or a host name; anything else is a usage error. */
export function parseBind(raw: string): string {
  const value = raw.trim().replace(/^\[(.*)\]$/, '$1');
  if (isIp(value)) return value;
  const hostname =
    /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
  if (hostname.test(value) && !/^[\d.]+$/.test(value)) return value;
  throw usageError(
    `invalid bind address '${raw}'`,
    'e.g. --bind 0.0.0.0, --bind ::1, --bind localhost',
  );
}

function parseSession(flags: RawFlags, environment: Environment): SessionOptions {
  const execute = flags.execute ?? [];
  if (flags.replay !== undefined && execute.length > 0)
    throw usageError('--replay and -x exclude each other');
  if (flags.replaySpeed !== undefined && flags.replay === undefined)
    throw usageError('--replay-speed needs --replay');
  const mode: SessionMode =
    execute.length > 0 || flags.replay !== undefined
      ? 'execute'
      : environment.stdinIsTTY
        ? 'repl'
        : 'pipe';
  if (flags.null && flags.split === false) throw usageError('-0 and --no-split exclude each other');
  const count = flags.count === undefined ? undefined : parseCount(flags.count);
  return {
    mode,
    execute,
    framing: flags.split === false ? 'whole' : flags.null ? 'null' : 'line',
    binary: flags.binary === true,
    waitMs: parseWait(flags.wait),
    waitGiven: flags.wait !== undefined,
    awaitTimeoutMs: parsePositiveSeconds('--await-timeout', flags.awaitTimeout, 10),
    count,
    expect: flags.expect === undefined ? undefined : parseRegex(flags.expect),
    timeoutMs:
      flags.timeout === undefined ? undefined : parseSeconds('--timeout', flags.timeout, 0, false),
    pingIntervalMs:
      flags.pingInterval === undefined
        ? undefined
        : parseAtLeastSeconds('--ping-interval', flags.pingInterval, 0.1),
    pingTimeoutMs: parsePingTimeout(flags),
    reconnect: parseReconnect(flags.reconnect),
    replay:
      flags.replay === undefined
        ? undefined
        : { file: flags.replay, speed: parseSpeed(flags.replaySpeed) },
    slash: flags.slash !== false,
    history: flags.history !== false,
  };
}

function parseReconnect(raw: string | boolean | undefined): number | undefined {
  if (raw === undefined || raw === false) return undefined;
  if (raw === true) return Number.POSITIVE_INFINITY;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n)) {
    throw usageError(`--reconnect takes a number of attempts, not '${raw}'`);
  }
  return n;
}

function parseSpeed(raw: string | undefined): number {
  if (raw === undefined) return 1;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw usageError(
      `--replay-speed takes a factor ≥ 0 (2 = twice as fast, 0 = no waiting), not '${raw}'`,
    );
  }
  return n;
}

function parsePingTimeout(flags: RawFlags): number | undefined {
  if (flags.pingTimeout === undefined) return undefined;
  if (flags.pingInterval === undefined) {
    throw usageError('--ping-timeout needs --ping-interval (the pings whose pongs it waits for)');
  }
  return parseAtLeastSeconds('--ping-timeout', flags.pingTimeout, 0.1);
}

function parseOutput(flags: RawFlags, environment: Environment): OutputOptions {
  let format: OutputFormat = environment.stdoutIsTTY ? 'pretty' : 'raw';
  if (flags.json && flags.output !== undefined && flags.output !== 'json') {
    throw usageError(`--json conflicts with --output ${flags.output}`);
  }
  if (flags.json) format = 'json';
  else if (flags.output !== undefined) {
    if (flags.output !== 'pretty' && flags.output !== 'raw' && flags.output !== 'json') {
      throw usageError(`--output must be pretty, raw or json, not '${flags.output}'`);
    }
    format = flags.output;
  }
  let binaryAs: OutputOptions['binaryAs'] = 'raw';
  if (flags.binaryAs !== undefined) {
    if (flags.binaryAs !== 'hex' && flags.binaryAs !== 'base64') {
      throw usageError(`--binary-as must be hex or base64, not '${flags.binaryAs}'`);
    }
    binaryAs = flags.binaryAs;
  }
  if (flags.quiet && flags.verbose) throw usageError('-q and -v exclude each other');
  return {
    format,
    color: colorFor(environment.stdoutIsTTY, flags.color, environment.env),
    colorErr: colorFor(environment.stderrIsTTY, flags.color, environment.env),
    prettyJson: flags.prettyJson !== false,
    hidePingPong: flags.hidePingPong === true,
    timestamps: flags.timestamps === true,
    maxDisplay: parseBytes('--max-display', flags.maxDisplay, 64 * 1024, 0),
    binaryAs,
    quiet: flags.quiet === true,
    verbose: flags.verbose === true,
    record: flags.record,
  };
}

/** --color/--no-color beat FORCE_COLOR, which beats NO_COLOR, which beats "is it a terminal". */
export function colorFor(
  isTTY: boolean,
  flag: boolean | undefined,
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  if (flag !== undefined) return flag;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return isTTY;
}

/** SPEC §1 URL forms → a ws:, wss: or ws+unix: URL string. */
export function normaliseUrl(input: string): string {
  const value = input.trim();
  if (value === '') throw usageError('the URL is empty');
  let candidate: string;
  if (/^\d+$/.test(value)) candidate = `ws://localhost:${value}/`;
  else if (/^:\d+(\/.*)?$/.test(value)) candidate = `ws://localhost${value}`;
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) candidate = value;
  else candidate = `ws://${value}`;

  const scheme = candidate.slice(0, candidate.indexOf(':')).toLowerCase();
  const mapped: Record<string, string> = {
    ws: 'ws',
    wss: 'wss',
    http: 'ws',
    https: 'wss',
    'ws+unix': 'ws+unix',
  };
  if (scheme === 'wss+unix') {
    throw usageError(
      `wss+unix: is not supported ('${input}')`,
      'use ws+unix:///path/to.sock:/request-path (TLS over a Unix socket is not offered)',
    );
  }
  const target = mapped[scheme];
  if (target === undefined) {
    throw usageError(
      `unsupported URL scheme '${scheme}:' in '${input}'`,
      'use ws://, wss://, http://, https:// or ws+unix://',
    );
  }
  candidate = target + candidate.slice(scheme.length);
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    throw usageError(`invalid URL '${input}'`);
  }
  if (target.endsWith('+unix')) {
    if (url.pathname === '' || url.pathname === '/') {
      throw usageError(
        `invalid URL '${input}': no socket path`,
        'form: ws+unix:///path/to.sock:/request-path',
      );
    }
    return url.toString();
  }
  if (url.hostname === '') throw usageError(`invalid URL '${input}': no host`);
  if (url.hash !== '') url.hash = '';
  return url.toString();
}

const FORBIDDEN_HEADERS =
  /^(sec-websocket-.*|upgrade|connection|transfer-encoding|content-length)$/i;

/**
 * Node's http refuses control characters in header values (ERR_INVALID_CHAR) by throwing:
 * refuse them here, naming the option, before any socket is opened (tab is allowed, as in HTTP).
 */
function parseHeaderValue(option: string, value: string): string {
  const bad = /[\x00-\x08\x0a-\x1f\x7f]/.exec(value);
  if (bad) {
    const code = `\\x${bad[0].charCodeAt(0).toString(16).padStart(2, '0')}`;
    throw usageError(`${option} has a control character (${code}) in its value`);
  }
  return value;
}
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function parseHeader(raw: string): [string, string] {
  const colon = raw.indexOf(':');
  if (colon <= 0) {
    throw usageError(
      `header '${raw}' has no name: value form`,
      `e.g. -H 'Authorization: Bearer x'`,
    );
  }
  const name = raw.slice(0, colon).trim();
  const value = raw.slice(colon + 1).trim();
  if (!TOKEN.test(name)) throw usageError(`invalid header name '${name}'`);
  // Node's http rejects these; catch them here so the message names the header.
  if (/[\r\n\0]/.test(value))
    throw usageError(`header '${name}' has a line break or NUL in its value`);
  parseHeaderValue(`header '${name}'`, value);
  if (FORBIDDEN_HEADERS.test(name)) {
    const hint = /^sec-websocket-protocol$/i.test(name)
      ? 'use -s <name> to offer a subprotocol'
      : /^sec-websocket-extensions$/i.test(name)
        ? 'permessage-deflate is offered by default; --no-compress turns it off'
        : 'wsx sets the handshake headers itself';
    throw usageError(`header '${name}' cannot be set with -H`, hint);
  }
  return [name, value];
}

function parseTls(flags: RawFlags, stdinIsTTY: boolean): TlsOptions {
  let passphrase: TlsOptions['passphrase'];
  if (flags.passphrase === true) {
    if (!stdinIsTTY) {
      throw usageError(
        '--passphrase has no value and stdin is not a terminal to ask for one',
        'use --passphrase <pass>',
      );
    }
    passphrase = 'ask';
  } else if (typeof flags.passphrase === 'string') passphrase = flags.passphrase;
  if (flags.key !== undefined && flags.cert === undefined) {
    throw usageError('--key needs --cert (the client certificate)');
  }
  if (passphrase !== undefined && flags.key === undefined && flags.cert === undefined) {
    throw usageError('--passphrase is for an encrypted --key: give --cert and --key too');
  }
  return {
    ca: flags.ca,
    cert: flags.cert,
    key: flags.key,
    passphrase,
    insecure: flags.insecure === true || flags.check === false,
  };
}

const PROXY_SCHEMES = ['http:', 'https:', 'socks:', 'socks4:', 'socks4a:', 'socks5:', 'socks5h:'];

export function parseProxyUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch {
    throw usageError(`invalid proxy URL '${raw}'`);
  }
  if (!PROXY_SCHEMES.includes(url.protocol) || url.hostname === '') {
    throw usageError(
      `unsupported proxy '${raw}'`,
      'use http://, https://, socks4://, socks5:// or socks5h:// (optionally user:pass@)',
    );
  }
  return url.toString();
}

function parseMaxRedirects(raw: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n)) {
    throw usageError(`--max-redirects takes a whole number, not '${raw}'`);
  }
  return n;
}

/** -s names, each a token, each offered once (a repeated name is refused by servers: 400). */
function parseSubprotocols(names: string[] | undefined): string[] {
  const out: string[] = [];
  for (const name of names ?? []) {
    if (!TOKEN.test(name)) throw usageError(`invalid subprotocol name '${name}'`);
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

function parseAuth(raw: string, stdinIsTTY: boolean): { user: string; pass: string | undefined } {
  const colon = raw.indexOf(':');
  if (colon === -1) {
    if (!stdinIsTTY) {
      throw usageError(
        `--auth ${raw} has no password and stdin is not a terminal to ask for one`,
        'use --auth user:password',
      );
    }
    return { user: raw, pass: undefined };
  }
  return { user: raw.slice(0, colon), pass: raw.slice(colon + 1) };
}

function parseProtocolVersion(raw: string | undefined): 8 | 13 {
  if (raw === undefined || raw === '13') return 13;
  if (raw === '8') return 8;
  throw usageError(`--protocol-version must be 8 or 13, not '${raw}'`);
}

/** Seconds (fractions allowed) → ms; negative values only when `negative`. */
function parseSeconds(
  name: string,
  raw: string | undefined,
  dflt: number,
  negative: boolean,
): number {
  if (raw === undefined) return dflt * 1000;
  const n = Number(raw);
  // Decimal only: Number() also takes 0x10, 1e3 and '  ', which nobody means as seconds.
  if (!/^\s*-?(\d+(\.\d*)?|\.\d+)\s*$/.test(raw) || !Number.isFinite(n) || (n < 0 && !negative)) {
    throw usageError(`${name} takes a number of seconds, not '${raw}'`);
  }
  if (n > 2_000_000) throw usageError(`${name} ${raw} is too large`);
  return Math.round(n * 1000);
}

function parsePositiveSeconds(name: string, raw: string | undefined, dflt: number): number {
  const ms = parseSeconds(name, raw, dflt, false);
  if (ms <= 0) throw usageError(`${name} must be more than 0 seconds`);
  return ms;
}

/** Seconds with a floor: sub-millisecond pings would flood the connection. */
function parseAtLeastSeconds(name: string, raw: string, min: number): number {
  const ms = parseSeconds(name, raw, 0, false);
  if (ms < min * 1000) throw usageError(`${name} must be at least ${min} s, not '${raw}'`);
  return ms;
}

function parseWait(raw: string | undefined): number {
  if (raw === undefined) return 2000;
  if (raw.trim() === '-1') return -1;
  const ms = parseSeconds('--wait', raw, 2, true);
  if (ms < 0) throw usageError(`--wait takes seconds, or -1 to wait for the server to close`);
  return ms;
}

function parseCount(raw: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw usageError(`--count takes a whole number of messages ≥ 1, not '${raw}'`);
  }
  return n;
}

function parseRegex(raw: string): RegExp {
  try {
    return new RegExp(raw);
  } catch (err) {
    throw usageError(`--expect: invalid regular expression '${raw}': ${(err as Error).message}`);
  }
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: MiB,
  mb: MiB,
  mib: MiB,
  g: 1024 * MiB,
  gb: 1024 * MiB,
  gib: 1024 * MiB,
};

/** Bytes, with optional K/M/G suffix (binary multiples). */
export function parseBytes(
  name: string,
  raw: string | undefined,
  dflt: number,
  min: number,
): number {
  if (raw === undefined) return dflt;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(raw);
  const unit = m ? UNITS[(m[2] ?? '').toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw usageError(`${name} takes a size in bytes (e.g. 65536, 64K, 1M), not '${raw}'`);
  }
  const n = Math.floor(Number(m[1]) * unit);
  if (n < min || !Number.isSafeInteger(n)) throw usageError(`${name} ${raw} is out of range`);
  return n;
}
