// Runs a bridge (SPEC §13): --stream, --tcp-listen, -l --to, --exec (client and listen). Each
// connection is two byte endpoints joined by pair(); this module only finds the endpoints, says
// what happens, and turns the ending into an exit code.

import type { IncomingMessage } from 'node:http';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { connect } from '../connection.js';
import { type Ending, EXIT, exitCodeFor, toWsxError, WsxError } from '../errors.js';
import type { Io } from '../io.js';
import type { ListenServer } from '../listen.js';
import type { ClientOptions, ListenOptions, Options, SessionOptions } from '../options.js';
import type { MessagePeer, Peer } from '../peer.js';
import { loadTlsMaterial, type PreparedConnect, prepareConnect } from '../prepare.js';
import { maskUrl } from '../render/mask.js';
import { errorLines, palette } from '../render/renderer.js';
import { sanitize, sanitizeLine } from '../render/sanitize.js';
import { describeClose, type Palette } from '../render/text.js';
import type { RunContext, SignalName } from '../run.js';
import { type Child, Joined, spawnChild, stopAfterGrace } from './endpoints.js';
import { type BridgeOptions, type BridgeTarget, describeTarget } from './options.js';
import { pair } from './pair.js';
import { cutReason, PeerStream } from './peer-stream.js';

declare const WSX_VERSION: string;
const VERSION = typeof WSX_VERSION === 'string' ? WSX_VERSION : '0.0.0-dev';

/** After a signal: how long open connections get to finish their close handshake. */
const SIGNAL_CLOSE_MS = 3000;

/** stderr/stdout lines for a bridge run, honouring -q, -v and the output format. */
class Say {
  constructor(
    private readonly io: Io,
    private readonly options: Options,
    readonly paint: Palette,
  ) {}

  /** A status line (Listening on…, Forwarding…): stdout in pretty mode, stderr otherwise. */
  status(line: string): void {
    if (this.options.output.format === 'pretty') this.io.stdout.write(`${line}\n`);
    else this.io.stderr.write(`${line}\n`);
  }

  error(err: unknown): void {
    this.io.stderr.write(errorLines(toWsxError(err), this.paint));
  }

  warn(text: string): void {
    if (!this.options.output.quiet)
      this.io.stderr.write(`${this.paint.yellow('warning:')} ${text}\n`);
  }

  note(text: string): void {
    if (!this.options.output.quiet) this.io.stderr.write(`note: ${text}\n`);
  }

  readonly verbose = (line: string): void => {
    if (this.options.output.verbose) this.io.stderr.write(`${this.paint.dim('*')} ${line}\n`);
  };

  /** The `Disconnected:` line when the ending was not normal (raw-mode rule, SPEC §3). */
  ending(ending: Ending, prefix = ''): void {
    if (ending.kind === 'error') this.error(ending.error);
    else if (
      ending.kind === 'closed' &&
      (exitCodeFor(ending) !== 0 || this.options.output.verbose)
    ) {
      if (!this.options.output.quiet || exitCodeFor(ending) !== 0) {
        this.io.stderr.write(
          `${prefix}Disconnected: ${describeClose(ending.code, ending.reason, this.paint)}\n`,
        );
      }
    }
  }
}

/** The signal (if any) that asked the run to stop, and everyone to tell when one comes. */
class Stopper {
  signal: SignalName | undefined;
  readonly abort = new AbortController();
  private readonly handlers = new Set<(s: SignalName) => void>();
  private readonly unsubscribe: () => void;

  constructor(ctx: RunContext) {
    this.unsubscribe = ctx.onSignal((s) => {
      this.signal ??= s;
      this.abort.abort();
      for (const h of [...this.handlers]) h(s);
    });
  }

  on(h: (s: SignalName) => void): () => void {
    this.handlers.add(h);
    return () => this.handlers.delete(h);
  }

  /** Resolves on the first signal. */
  readonly stopped = new Promise<SignalName>((resolve) => {
    this.handlers.add(resolve);
  });

  code(): number {
    return this.signal === 'SIGTERM' ? EXIT.sigterm : EXIT.sigint;
  }

  release(): void {
    this.unsubscribe();
  }
}

export async function runBridge(options: Options, io: Io, ctx: RunContext): Promise<number> {
  const bridge = options.bridge as BridgeOptions;
  const say = new Say(io, options, await palette(options.output.colorErr));
  const stop = new Stopper(ctx);
  try {
    if (options.kind === 'listen') return await runListen(options, bridge, io, ctx, say, stop);
    // No permessage-deflate: tunnelled bytes are mostly encrypted or compressed already (ssh,
    // TLS, VNC), where deflate only burns CPU (random data: 9× slower) and saves nothing.
    const prepared = await prepareConnect({ ...options.connect, compress: false }, ctx.askSecret);
    if (bridge.kind === 'tcp-listen')
      return await runTcpListen(options, bridge, prepared, say, stop);
    return await runClient(options, bridge, prepared, io, say, stop, ctx);
  } catch (err) {
    if (stop.signal) return stop.code();
    say.error(err);
    return exitCodeFor({ kind: 'error', error: toWsxError(err) });
  } finally {
    stop.release();
  }
}

function openPeer(prepared: PreparedConnect, say: Say, signal: AbortSignal): Promise<Peer> {
  return connect(prepared, {
    signal,
    warn: (text) => say.warn(text),
    verbose: say.verbose,
  });
}

/**
 * --ping-interval / --ping-timeout keep a quiet tunnel alive through proxies that drop idle
 * connections, and notice a dead one: the lead's keepalive layer over the peer.
 */
async function keepalive(
  peer: MessagePeer,
  session: SessionOptions,
  say: Say,
): Promise<MessagePeer> {
  if (session.pingIntervalMs === undefined) return peer;
  const { KeepaliveLayer } = await import('../layers/keepalive.js');
  return new KeepaliveLayer(
    peer,
    { now: Date.now, note: (_level, text) => say.warn(text), verbose: undefined },
    { intervalMs: session.pingIntervalMs, timeoutMs: session.pingTimeoutMs, showPing: () => {} },
  );
}

/** Resolves when `w` has taken everything (finish) or is gone (close). */
function written(w: Writable): Promise<void> {
  return new Promise((resolve) => {
    if (w.writableFinished || w.destroyed) resolve();
    w.once('finish', () => resolve());
    w.once('close', () => resolve());
  });
}

/** stdout as a Writable; on a terminal, bytes are escaped (terminal safety outranks exactness). */
function stdoutSink(io: Io): Writable {
  if (!io.stdoutIsTTY) return io.stdout;
  const decoder = new StringDecoder('utf8');
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      io.stdout.write(sanitize(decoder.write(chunk)), () => cb());
    },
  });
}

// ---- client: --stream and --exec -------------------------------------------------------------

async function runClient(
  options: ClientOptions,
  bridge: BridgeOptions,
  prepared: PreparedConnect,
  io: Io,
  say: Say,
  stop: Stopper,
  ctx: RunContext,
): Promise<number> {
  const peer = await keepalive(
    await openPeer(prepared, say, stop.abort.signal),
    options.session,
    say,
  );
  const exec = bridge.kind === 'exec' ? bridge : undefined;
  const waitGiven = bridge.kind === 'stream' || bridge.kind === 'exec' ? bridge.waitGiven : false;
  const ws = new PeerStream(peer, {
    framing: exec && !exec.stream ? 'lines' : 'bytes',
    closeDelayMs: waitGiven ? options.session.waitMs : 0,
  });
  let child: Child | undefined;
  let local: Joined;
  if (exec) {
    child = spawnChild(exec.command, { ...io.env });
    local = child.stream;
  } else {
    local = new Joined(io.stdin(), stdoutSink(io), {
      endWritable: false,
      stopReading: () => io.releaseStdin?.(),
    });
    io.onStdoutClosed?.(() => ws.closeWith(1000));
  }
  const off = stop.on(() => {
    ws.closeWith(1001);
    child?.stop();
  });
  // ssh closes a ProxyCommand's pipes and then sends it SIGHUP at once: dying there would drop
  // the WebSocket without a close frame. A hang-up means the session is over: finish the close
  // handshake (bounded by the close timeout) and end normally.
  const offHangup = exec ? undefined : ctx.onHangup?.(() => ws.closeWith(1000));
  const toLocal = written(local);
  const paired = pair(local, ws, (err, side) => {
    if (side === local) say.error(new WsxError('io', err.message));
  });
  // The end of the connection ends the run, once what it delivered has been written out; stdin
  // may still be open (ssh keeps it open until it sees the end of our stdout).
  await Promise.race([paired, ws.wsClosed.then(() => toLocal)]);
  off();
  offHangup?.();
  let status: number | undefined;
  if (child) {
    stopAfterGrace(child);
    status = await child.exited;
  }
  local.destroy();
  ws.destroy();
  if (stop.signal) return stop.code();
  const ending = ws.ending();
  say.ending(ending);
  const code = exitCodeFor(ending);
  if (child && status !== undefined && status !== 0 && !child.stoppedByUs) {
    say.note(`the program exited with status ${status}`);
    if (code === 0) return status;
  }
  return code;
}

// ---- client: --tcp-listen --------------------------------------------------------------------

function listenTcp(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const where = `${host}:${port}`;
      if (err.code === 'EADDRINUSE') {
        reject(
          new WsxError('connect', `--tcp-listen: ${where} is already in use`, {
            code: err.code,
            hint: 'pick another port, or 0 for a free one',
          }),
        );
      } else if (
        err.code === 'EADDRNOTAVAIL' ||
        err.code === 'ENOTFOUND' ||
        err.code === 'EAI_AGAIN'
      ) {
        reject(new WsxError('usage', `--tcp-listen: '${host}' is not an address of this machine`));
      } else
        reject(new WsxError('connect', `--tcp-listen: cannot listen on ${where}: ${err.message}`));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

async function runTcpListen(
  options: ClientOptions,
  bridge: Extract<BridgeOptions, { kind: 'tcp-listen' }>,
  prepared: PreparedConnect,
  say: Say,
  stop: Stopper,
): Promise<number> {
  const open = new Set<{ ws?: PeerStream; sock: Socket }>();
  let next = 0;
  const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (sock) => {
    const id = ++next;
    const entry: { ws?: PeerStream; sock: Socket } = { sock };
    open.add(entry);
    sock.on('error', () => {});
    say.verbose(`#${id} accepted ${hostPort(sock.remoteAddress ?? '?', sock.remotePort ?? 0)}`);
    void (async () => {
      let ws: PeerStream;
      try {
        const opened = await openPeer(prepared, say, stop.abort.signal);
        ws = new PeerStream(await keepalive(opened, options.session, say), { framing: 'bytes' });
      } catch (err) {
        open.delete(entry);
        sock.destroy();
        if (!stop.signal) say.warn(`#${id}: ${toWsxError(err).message}`);
        return;
      }
      entry.ws = ws;
      if (stop.signal) ws.closeWith(1001);
      await pair(sock, ws);
      sock.destroy();
      ws.destroy();
      open.delete(entry);
      if (options.output.verbose || exitCodeFor(ws.ending()) !== 0) {
        say.ending(ws.ending(), `#${id} `);
      }
    })();
  });
  await listenTcp(server, bridge.port, bridge.host);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : bridge.port;
  say.status(`Forwarding ${hostPort(bridge.host, port)} → ${sanitizeLine(maskUrl(prepared.url))}`);
  await stop.stopped;
  server.close();
  for (const e of open) {
    if (e.ws) e.ws.closeWith(1001);
    else e.sock.destroy();
  }
  await drain(
    [...open].map((e) => e.ws?.wsClosed),
    [...open].map((e) => e.sock),
  );
  return stop.code();
}

/** Wait (bounded) for close handshakes, then drop whatever is left. */
async function drain(
  closing: Array<Promise<unknown> | undefined>,
  sockets: Socket[],
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(closing),
    new Promise((resolve) => {
      timer = setTimeout(resolve, SIGNAL_CLOSE_MS);
    }),
  ]);
  clearTimeout(timer);
  for (const s of sockets) s.destroy();
}

// ---- listen: -l --to and -l --exec -----------------------------------------------------------

function describeSocketError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOENT':
      return 'no such socket';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unknown host';
    case 'ETIMEDOUT':
      return 'timed out';
    case 'EACCES':
      return 'permission denied';
    case 'ECONNRESET':
      return 'connection reset';
    default:
      return err.message;
  }
}

const TARGET_CONNECT_MS = 10_000;

function connectTarget(target: BridgeTarget): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock =
      target.kind === 'tcp'
        ? tcpConnect({ host: target.host, port: target.port, allowHalfOpen: true })
        : tcpConnect({ path: target.path, allowHalfOpen: true });
    sock.setTimeout(TARGET_CONNECT_MS, () => {
      sock.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }));
    });
    sock.once('error', reject);
    sock.once('connect', () => {
      sock.setTimeout(0);
      sock.off('error', reject);
      resolve(sock);
    });
  });
}

/** websocketd's CGI-style environment for one client (compared with websocketd in the tests). */
export function cgiEnvironment(
  req: IncomingMessage,
  server: { host: string; port: number; tls: boolean },
  id: number,
): Record<string, string> {
  const url = new URL(req.url ?? '/', 'http://x');
  const remote = (req.socket.remoteAddress ?? '').replace(/^::ffff:(?=\d+\.)/, '');
  const hostHeader = req.headers.host;
  let serverName = server.host;
  let serverPort = String(server.port);
  if (hostHeader) {
    const m = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(hostHeader);
    if (m?.[1]) serverName = m[1];
    if (m?.[2]) serverPort = m[2];
    else serverPort = server.tls ? '443' : '80';
  }
  const env: Record<string, string> = {
    AUTH_TYPE: '',
    CONTENT_LENGTH: '',
    CONTENT_TYPE: '',
    GATEWAY_INTERFACE: 'websocketd-CGI/0.1',
    PATH_INFO: url.pathname,
    PATH_TRANSLATED: url.pathname,
    QUERY_STRING: url.search.slice(1),
    REMOTE_ADDR: remote,
    REMOTE_HOST: remote,
    REMOTE_IDENT: '',
    REMOTE_PORT: String(req.socket.remotePort ?? ''),
    REMOTE_USER: '',
    REQUEST_METHOD: req.method ?? 'GET',
    REQUEST_URI: req.url ?? '/',
    SCRIPT_NAME: '/',
    SERVER_NAME: serverName,
    SERVER_PORT: serverPort,
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    SERVER_SOFTWARE: `wsx/${VERSION}`,
    UNIQUE_ID: `${process.pid}${Date.now()}${id}`,
  };
  if (server.tls) env.HTTPS = 'on';
  const headers = new Map<string, string[]>();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] as string).toUpperCase().replace(/-/g, '_');
    // Host is the SERVER_NAME/PORT (as in Go, websocketd's platform). A `Proxy:` header would
    // become HTTP_PROXY and redirect the program's own HTTP clients ("httpoxy"): never pass it.
    if (name === 'HOST' || name === 'PROXY') continue;
    const list = headers.get(name) ?? [];
    list.push(req.rawHeaders[i + 1] as string);
    headers.set(name, list);
  }
  for (const [name, values] of headers) env[`HTTP_${name}`] = values.join(', ');
  return env;
}

interface ClientSession {
  ws?: PeerStream;
  peer: Peer;
  child?: Child;
  done: Promise<void>;
}

async function runListen(
  options: ListenOptions,
  bridge: BridgeOptions,
  io: Io,
  ctx: RunContext,
  say: Say,
  stop: Stopper,
): Promise<number> {
  const tls = options.tls.cert ? await loadTlsMaterial(options.tls, ctx.askSecret) : undefined;
  const { listen } = await import('../listen.js');
  const server: ListenServer = await listen({
    port: options.port,
    bind: options.bind,
    subprotocols: options.subprotocols,
    compress: false, // as on the client side (runBridge)
    maxMessageSize: options.maxMessageSize,
    tls,
    // websockify's clients (noVNC) offer `binary`: pick it when offered, never require it.
    optionalSubprotocols: bridge.kind === 'to' ? ['binary'] : [],
  });
  const bound = new URL(server.url);
  const serverInfo = {
    host: bound.hostname.replace(/^\[|\]$/g, ''),
    port: Number(bound.port),
    tls: tls !== undefined,
  };
  const sessions = new Set<ClientSession>();
  let next = 0;
  let firstDone: () => void = () => {};
  const first = new Promise<void>((resolve) => {
    firstDone = resolve;
  });

  server.on('peer', (peer, req) => {
    const id = ++next;
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    say.verbose(`#${id} connected from ${remote} ${sanitizeLine(req.url ?? '/')}`);
    const session = { peer } as ClientSession;
    sessions.add(session);
    session.done = serve(session, id, req)
      .catch((err) => say.warn(`#${id} ${toWsxError(err).message}`))
      .finally(() => {
        sessions.delete(session);
        firstDone();
      });
  });

  async function serve(session: ClientSession, id: number, req: IncomingMessage): Promise<void> {
    const { peer } = session;
    let local: Socket | Joined;
    if (bridge.kind === 'to') {
      try {
        local = await connectTarget(bridge.target);
      } catch (err) {
        const why = `cannot connect to ${describeTarget(bridge.target)}: ${describeSocketError(err as NodeJS.ErrnoException)}`;
        say.warn(`#${id} ${why}`);
        // Nobody else listens to this peer: a protocol error from the client must not throw.
        peer.on('error', () => {});
        peer.start();
        peer.close(1011, cutReason(why));
        await new Promise<void>((resolve) => {
          if (peer.isClosed) resolve();
          else peer.once('close', () => resolve());
        });
        return;
      }
      local.on('error', () => {});
    } else if (bridge.kind === 'exec') {
      session.child = spawnChild(bridge.command, {
        ...io.env,
        ...cgiEnvironment(req, serverInfo, id),
      });
      local = session.child.stream;
    } else return;
    const ws = new PeerStream(await keepalive(peer, options.session, say), {
      framing: bridge.kind === 'exec' && !bridge.stream ? 'lines' : 'bytes',
    });
    session.ws = ws;
    if (stop.signal) ws.closeWith(1001);
    // The client gone: the program's stdin is closed (pair), SIGTERM 2 s later if still running.
    void ws.wsClosed.then(() => {
      if (session.child) stopAfterGrace(session.child);
    });
    await pair(local, ws, (err, side) => {
      if (side === local)
        say.warn(
          `#${id} ${bridge.kind === 'to' ? describeTarget(bridge.target) : 'program'}: ${err.message}`,
        );
    });
    local.destroy();
    ws.destroy();
    const ending = ws.ending();
    if (options.output.verbose || exitCodeFor(ending) !== 0) say.ending(ending, `#${id} `);
    if (session.child) {
      const status = await session.child.exited;
      if (status !== 0 && !session.child.stoppedByUs)
        say.note(`#${id} the program exited with status ${status}`);
    }
  }

  say.status(`Listening on ${server.url}`);
  const ended = await Promise.race([
    stop.stopped,
    options.once ? first : new Promise<never>(() => {}),
  ]);
  const all = [...sessions];
  if (ended !== undefined) {
    for (const s of all) {
      if (s.ws) s.ws.closeWith(1001);
      else s.peer.close(1001);
      s.child?.stop();
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(all.map((s) => s.done)),
      new Promise((resolve) => {
        timer = setTimeout(resolve, SIGNAL_CLOSE_MS);
      }),
    ]);
    clearTimeout(timer);
  }
  await server.close();
  return ended === undefined ? EXIT.ok : stop.code();
}
