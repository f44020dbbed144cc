// Request/response dialects with numeric ids: JSON-RPC 2.0 and the Chrome DevTools Protocol
// (JSON-RPC-like, no "jsonrpc" member). Lines `method [params]` and full objects become requests
// with the next id; responses are matched to their request and shown with the latency; error
// responses are exit 5; notifications/events are shown by method name.

import { monotonicMs } from '../clock.js';
import { usageError, WsxError } from '../errors.js';
import type { MessagePeer, MessageView } from '../peer.js';
import {
  compact,
  Dialect,
  type DialectCommand,
  type DialectEnv,
  formatLatency,
  parseMethodLine,
} from './dialect.js';
import type { DialectName } from './options.js';

/** Per run: ids go on counting across reconnects. */
export interface RpcState {
  nextId: number;
}

interface Pending {
  method: string;
  sentAt: number;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** An error object's code and message, whatever shape the server used. */
function describeError(error: unknown): { code: string; message: string; data: unknown } {
  if (isObject(error)) {
    const code = error.code === undefined ? '' : String(error.code);
    const message = typeof error.message === 'string' ? error.message : compact(error);
    return { code, message, data: error.data };
  }
  return { code: '', message: compact(error), data: undefined };
}

export class RpcDialect extends Dialect {
  readonly dialect: DialectName;
  private readonly waiting = new Map<string, Pending>();
  private readonly state: RpcState;

  constructor(
    inner: MessagePeer,
    env: DialectEnv<RpcState>,
    commands: readonly DialectCommand[],
    private readonly cdp: boolean,
  ) {
    super(inner, env, commands);
    this.dialect = cdp ? 'cdp' : 'jsonrpc';
    this.state = env.state;
  }

  protected begin(): void {
    // No handshake: requests may go at once.
    this.markReady();
  }

  protected override pending(): number {
    return this.waiting.size;
  }

  protected onLine(text: string): void {
    const trimmed = text.trim();
    if (trimmed === '') throw usageError(`an empty line is not a ${this.dialect} request`);
    if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
      this.sendObject(trimmed);
      return;
    }
    const { method, params } = parseMethodLine(trimmed, this.dialect);
    this.request(method, params);
  }

  /** A request `method [params]` with the next id. */
  request(method: string, params: unknown): void {
    const id = this.state.nextId++;
    const msg: Json = this.cdp ? { id, method } : { jsonrpc: '2.0', id, method };
    if (params !== undefined) msg.params = params;
    this.track(id, method);
    this.send(JSON.stringify(msg), false, this.requestView(msg));
  }

  /** /notify: a request without an id (JSON-RPC); no response is expected. */
  notify(method: string, params: unknown): void {
    const msg: Json = { jsonrpc: '2.0', method };
    if (params !== undefined) msg.params = params;
    this.send(JSON.stringify(msg), false, {
      label: `[${method}]`,
      body: params === undefined ? '' : compact(params),
      dialect: { type: 'notification', method, params },
    });
  }

  /** A full JSON object (or batch) line: sent as is, with an id added to a request without one. */
  private sendObject(text: string): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw usageError(`not JSON: ${(err as Error).message}`);
    }
    const list = Array.isArray(value) ? value : [value];
    if (list.length === 0 || !list.every(isObject)) {
      throw usageError(`a ${this.dialect} line is \`method [params]\` or a JSON object`);
    }
    const objects = list as Json[];
    for (const o of objects) {
      if (typeof o.method !== 'string') continue;
      if (o.id === undefined || o.id === null) o.id = this.state.nextId++;
      this.track(o.id, o.method);
    }
    const out = Array.isArray(value) ? objects : objects[0];
    const first = objects[0] as Json;
    this.send(
      JSON.stringify(out),
      false,
      Array.isArray(value) ? { label: `[batch of ${objects.length}]` } : this.requestView(first),
    );
  }

  private track(id: unknown, method: string): void {
    this.waiting.set(String(id), { method, sentAt: monotonicMs() });
  }

  private requestView(msg: Json): MessageView {
    const method = String(msg.method ?? '');
    const id = msg.id;
    return {
      label: id === undefined ? `[${method}]` : `[#${String(id)} ${method}]`,
      body: msg.params === undefined ? '' : compact(msg.params),
      dialect: { type: 'request', id, method, params: msg.params },
    };
  }

  protected override onMessage(data: Buffer, binary: boolean, view: MessageView | undefined): void {
    if (binary) {
      this.show(data, binary, { ...view, note: `a binary frame is not ${this.dialect}` });
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(data.toString('utf8'));
    } catch {
      this.show(data, binary, { ...view, note: `not JSON: not a ${this.dialect} message` });
      return;
    }
    const list = Array.isArray(value) ? value : [value];
    for (const item of list) this.showOne(data, item);
    if (this.waiting.size === 0) this.settled();
  }

  private showOne(data: Buffer, msg: unknown): void {
    if (!isObject(msg)) {
      this.show(data, false, { text: compact(msg), note: `not a ${this.dialect} message` });
      return;
    }
    const hasId = msg.id !== undefined && msg.id !== null;
    // rpc-websockets (a common Node server) sends events as {"notification": name, "params"}.
    const method =
      typeof msg.method === 'string' ? msg.method : this.cdp ? undefined : msg.notification;
    if (typeof method === 'string') {
      // A notification or event, or a request from the server (it has an id).
      const session = typeof msg.sessionId === 'string' ? ` (session ${msg.sessionId})` : '';
      const label = this.cdp
        ? `${method}${session}`
        : hasId
          ? `[${method} #${String(msg.id)}]`
          : `[${method}]`;
      const type = this.cdp ? 'event' : hasId ? 'request' : 'notification';
      this.show(data, false, {
        label,
        body: msg.params === undefined ? '' : compact(msg.params),
        text: compact(msg),
        dialect: { type, id: msg.id, method, params: msg.params, sessionId: msg.sessionId },
        // An application message (--count, --expect see it); CDP raw output: results only,
        // unless --events (SPEC §17).
        ...(this.cdp && !this.options.events ? { rawHidden: true } : {}),
      });
      return;
    }
    const key = hasId ? String(msg.id) : '';
    const pending = this.waiting.get(key);
    if (pending) this.waiting.delete(key);
    const name = pending?.method ?? '?';
    const ms = pending ? monotonicMs() - pending.sentAt : undefined;
    const timing = ms === undefined ? '' : ` · ${formatLatency(ms)}`;
    const latencyMs = ms === undefined ? undefined : Math.round(ms * 10) / 10;
    if (msg.error !== undefined) {
      const e = describeError(msg.error);
      const code = e.code === '' ? '' : ` ${e.code}`;
      const detail = e.data === undefined ? e.message : `${e.message} ${compact(e.data)}`;
      this.show(data, false, {
        label: `[#${key} ${name} · error${code}]`,
        body: detail,
        text: compact(msg.error),
        dialect: { type: 'error', id: msg.id, method: name, error: msg.error, latencyMs },
        // An application message, but raw output carries results only; the error goes to
        // stderr (the error line below).
        rawHidden: true,
      });
      this.fail(
        new WsxError('application', `${name} (#${key}) failed:${code} ${detail}`, {
          code: 'RPC_ERROR',
        }),
      );
      return;
    }
    this.show(data, false, {
      label: `[#${key} ${name}${timing}]`,
      body: compact(msg.result),
      text: compact(msg.result),
      dialect: { type: 'response', id: msg.id, method: name, result: msg.result, latencyMs },
    });
  }
}

/** /notify (JSON-RPC only) and the shared request command. */
export const NOTIFY: DialectCommand = {
  name: 'notify',
  usage: '/notify <method> [params]',
  help: 'send a JSON-RPC notification (no id, no response)',
  run: (d, args) => {
    const { method, params } = parseMethodLine(args, '/notify');
    (d as RpcDialect).notify(method, params);
  },
};
