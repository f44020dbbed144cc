// The graphql dialect (SPEC §12, §17): GraphQL over WebSocket in both protocols, the server's
// choice spoken: graphql-transport-ws (the graphql-ws library) and the legacy graphql-ws
// (Apollo's subscriptions-transport-ws). connection_init with --init, operations from documents
// with ids 1, 2, 3…, /stop and /ops, keep-alives answered, `error` → exit 5.

import { usageError, WsxError } from '../errors.js';
import type { ConnectOptions } from '../options.js';
import type { CloseInfo, MessagePeer, MessageView } from '../peer.js';
import { bracesContinue } from '../session/json-continuation.js';
import {
  compact,
  Dialect,
  type DialectCommand,
  type DialectEnv,
  type DialectSpec,
  type PrepareEnv,
} from './dialect.js';

export const TRANSPORT_WS = 'graphql-transport-ws';
export const LEGACY_WS = 'graphql-ws';

interface Operation {
  payload: Record<string, unknown>;
  /** What the user typed, for /ops. */
  document: string;
  /** The payload as JSON, to recognise the same operation sent again. */
  key: string;
}

/** Per run: ids keep counting and active operations are re-subscribed after a reconnect. */
export interface GraphqlState {
  nextId: number;
  active: Map<string, Operation>;
  /** The subprotocols this run offers (SPEC §17: both, unless -s chose). */
  offered: string[];
  /** A subscriptions-transport-ws server refused graphql-transport-ws: offer graphql-ws alone. */
  legacyOnly: boolean;
  retried: boolean;
}

type Msg = { type?: unknown; id?: unknown; payload?: unknown };

/** A one-line summary of GraphQL errors: their messages. */
function errorText(payload: unknown): string {
  const list = Array.isArray(payload)
    ? payload
    : payload !== null && typeof payload === 'object' && 'errors' in payload
      ? (payload as { errors: unknown }).errors
      : [payload];
  if (!Array.isArray(list)) return compact(payload);
  return list
    .map((e) =>
      e !== null && typeof e === 'object' && 'message' in e
        ? String((e as { message: unknown }).message)
        : compact(e),
    )
    .join('; ');
}

export class GraphqlDialect extends Dialect {
  readonly dialect = 'graphql' as const;
  private readonly legacy: boolean;
  private readonly state: GraphqlState;
  /** Lines of a document whose braces are not balanced yet (pipes send one line at a time). */
  private partial = '';
  private acked = false;
  /** Operations this connection stopped (/stop): their late results are not counted. */
  private readonly stopped = new Set<string>();
  /** Operations re-subscribed on this connection, not yet claimed by a re-sent -x line. */
  private readonly restored = new Set<string>();

  constructor(inner: MessagePeer, env: DialectEnv<GraphqlState>) {
    super(inner, env, GRAPHQL_COMMANDS);
    this.state = env.state;
    this.legacy = inner.info.protocol === LEGACY_WS;
  }

  protected begin(): void {
    const protocol = this.legacy ? LEGACY_WS : TRANSPORT_WS;
    this.verbose(
      `protocol ${protocol}; connection_init${this.options.init === undefined ? '' : ' with --init'}`,
    );
    const init: Msg = { type: 'connection_init' };
    if (this.options.init !== undefined) init.payload = this.options.init;
    this.sendAuto(JSON.stringify(init), false, {
      label: '[connection_init]',
      // The init payload often holds a token: not shown.
      body: this.options.init === undefined ? '' : '(payload from --init)',
      control: true,
      dialect: { type: 'connection_init' },
    });
  }

  protected override handshakeWhat(): string {
    return 'connection_ack';
  }

  protected override pending(): number {
    return this.state.active.size;
  }

  protected onLine(text: string): void {
    const joined = this.partial === '' ? text : `${this.partial}\n${text}`;
    if (bracesContinue(joined)) {
      this.partial = joined;
      return;
    }
    this.partial = '';
    const doc = joined.trim();
    if (doc === '') throw usageError('an empty line is not a GraphQL document');
    // A JSON line {"query": …, "variables": …} is a whole payload.
    if (doc.startsWith('{')) {
      try {
        const v = JSON.parse(doc) as unknown;
        if (
          v !== null &&
          typeof v === 'object' &&
          typeof (v as { query?: unknown }).query === 'string'
        ) {
          this.subscribe(v as Record<string, unknown>, doc);
          return;
        }
      } catch {
        // `{ hello }` is a GraphQL document (the query shorthand), not JSON.
      }
    }
    const payload: Record<string, unknown> = { query: doc };
    if (this.options.variables !== undefined) payload.variables = this.options.variables;
    this.subscribe(payload, doc);
  }

  private subscribe(payload: Record<string, unknown>, document: string): void {
    if (payload.variables === undefined && this.options.variables !== undefined) {
      payload.variables = this.options.variables;
    }
    // After a reconnect the session sends its -x lines again (SPEC §6) while the operations
    // they started were already re-subscribed: the same document takes over its restored
    // operation instead of running twice.
    const key = JSON.stringify(payload);
    const restored = [...this.restored].find((id) => this.state.active.get(id)?.key === key);
    if (restored !== undefined) {
      this.restored.delete(restored);
      return;
    }
    const id = String(this.state.nextId++);
    this.state.active.set(id, { payload, document, key });
    this.sendOp(id, payload, false);
  }

  private sendOp(id: string, payload: Record<string, unknown>, again: boolean): void {
    const msg = { id, type: this.legacy ? 'start' : 'subscribe', payload };
    const view: MessageView = {
      label: `[${id} ${again ? 'resubscribe' : this.legacy ? 'start' : 'subscribe'}]`,
      body: String(payload.query ?? ''),
      dialect: { type: msg.type, id, payload },
    };
    if (again) this.sendAuto(JSON.stringify(msg), false, view);
    else this.send(JSON.stringify(msg), false, view);
  }

  /** /stop: complete one operation. */
  stopOp(id: string): void {
    if (!this.state.active.has(id)) throw usageError(`no active operation ${id} (see /ops)`);
    this.whenReady(() => {
      this.sendStop(id, false);
      this.state.active.delete(id);
      this.stopped.add(id);
      this.settled();
    });
  }

  private sendStop(id: string, auto: boolean): void {
    const msg = { id, type: this.legacy ? 'stop' : 'complete' };
    const view: MessageView = {
      label: `[${id} ${msg.type}]`,
      body: '',
      control: true,
      dialect: { type: msg.type, id },
    };
    if (auto) this.sendAuto(JSON.stringify(msg), false, view);
    else this.send(JSON.stringify(msg), false, view);
  }

  /** /ops: the active operations. */
  describeOps(): string {
    if (this.state.active.size === 0) return 'no active operations';
    return [...this.state.active]
      .map(([id, op]) => `${id}  ${op.document.replace(/\s+/g, ' ').slice(0, 100)}`)
      .join('\n');
  }

  override close(code?: number, reason?: string): void {
    // --count reached, /quit, end of input: complete what is still running, then close.
    if (this.acked && this.inner.isOpen) {
      for (const id of this.state.active.keys()) this.sendStop(id, true);
      this.state.active.clear();
      if (this.legacy) {
        this.sendAuto(JSON.stringify({ type: 'connection_terminate' }), false, {
          label: '[connection_terminate]',
          body: '',
          control: true,
        });
      }
    }
    super.close(code, reason);
  }

  protected override onClose(info: CloseInfo): void {
    // SPEC §17: a subscriptions-transport-ws server closes (1002) a graphql-transport-ws it
    // does not know; the feature then retries once offering graphql-ws alone.
    if (
      !this.acked &&
      !this.legacy &&
      info.code === 1002 &&
      this.state.offered.includes(LEGACY_WS) &&
      !this.state.legacyOnly
    ) {
      this.state.legacyOnly = true;
    }
    super.onClose(info);
  }

  protected override onMessage(data: Buffer, binary: boolean, view: MessageView | undefined): void {
    let msg: Msg;
    try {
      msg = JSON.parse(data.toString('utf8')) as Msg;
    } catch {
      this.show(data, binary, { ...view, note: 'not a GraphQL over WebSocket message' });
      return;
    }
    if (msg === null || typeof msg !== 'object') {
      this.show(data, binary, { ...view, note: 'not a GraphQL over WebSocket message' });
      return;
    }
    const id = msg.id === undefined ? '' : String(msg.id);
    const control = (label: string): MessageView => ({
      label,
      body: msg.payload === undefined ? '' : compact(msg.payload),
      control: true,
      dialect: { type: msg.type, ...(id === '' ? {} : { id }), payload: msg.payload },
    });
    switch (msg.type) {
      case 'connection_ack':
        this.acked = true;
        this.show(data, binary, control('[connection_ack]'));
        this.verbose('connection_ack');
        this.resubscribe();
        this.markReady();
        return;
      case 'connection_error': {
        this.show(data, binary, control('[connection_error]'));
        this.fail(
          new WsxError('application', `GraphQL connection_error: ${errorText(msg.payload)}`, {
            code: 'GRAPHQL_ERROR',
          }),
        );
        this.abandon();
        this.inner.close(1000, '');
        return;
      }
      // Heartbeats: shown like pings, hidden by --hide-ping-pong (SPEC §12).
      case 'ping':
        this.show(data, binary, { ...control('[ping]'), heartbeat: true });
        this.sendAuto(JSON.stringify({ type: 'pong' }), false, {
          label: '[pong]',
          body: '',
          control: true,
          heartbeat: true,
          dialect: { type: 'pong' },
        });
        return;
      case 'pong':
        this.show(data, binary, { ...control('[pong]'), heartbeat: true });
        return;
      case 'ka':
        this.show(data, binary, { ...control('[ka]'), body: '', heartbeat: true });
        return;
      case 'next':
      case 'data': {
        const payload = msg.payload;
        const errors = (payload as { errors?: unknown } | null)?.errors;
        // A result already on its way when /stop went out: shown, but not a result of the run.
        const late = this.stopped.has(id);
        this.show(data, binary, {
          label: `[${id} next]`,
          body: compact(payload),
          text: compact(payload),
          dialect: { type: 'next', id, payload },
          ...(late ? { control: true, note: 'after /stop' } : {}),
        });
        if (Array.isArray(errors) && errors.length > 0) {
          this.fail(
            new WsxError('application', `GraphQL operation ${id}: ${errorText(errors)}`, {
              code: 'GRAPHQL_ERROR',
            }),
          );
        }
        return;
      }
      case 'error': {
        this.state.active.delete(id);
        this.show(data, binary, {
          label: `[${id} error]`,
          body: errorText(msg.payload),
          text: compact(msg.payload),
          // An application message (counted, matched), but raw output carries results only:
          // the error goes to stderr as the error line.
          rawHidden: true,
          dialect: { type: 'error', id, payload: msg.payload },
        });
        this.fail(
          new WsxError('application', `GraphQL operation ${id} failed: ${errorText(msg.payload)}`, {
            code: 'GRAPHQL_ERROR',
          }),
        );
        this.settled();
        return;
      }
      case 'complete':
        this.state.active.delete(id);
        this.show(data, binary, { ...control(`[${id} complete]`), body: '' });
        this.settled();
        return;
      default:
        this.show(data, binary, {
          ...view,
          note: `unknown GraphQL message type ${compact(msg.type)}`,
        });
    }
  }

  /** --reconnect: the operations that were active run again, with their ids. */
  private resubscribe(): void {
    for (const [id, op] of this.state.active) {
      this.restored.add(id);
      this.sendOp(id, op.payload, true);
    }
  }
}

const GRAPHQL_COMMANDS: readonly DialectCommand[] = [
  {
    name: 'stop',
    usage: '/stop <id>',
    help: 'complete the operation <id> (see /ops)',
    run: (d, args) => {
      const id = args.trim();
      if (id === '') throw usageError('/stop needs an operation id (see /ops)');
      (d as GraphqlDialect).stopOp(id);
    },
  },
  {
    name: 'ops',
    usage: '/ops',
    help: 'list the active operations',
    run: (d, _args, print) => print((d as GraphqlDialect).describeOps()),
  },
];

async function prepare(
  connect: ConnectOptions,
  env: PrepareEnv<GraphqlState>,
): Promise<ConnectOptions> {
  const offered = env.state.legacyOnly ? [LEGACY_WS] : connect.subprotocols;
  env.state.offered = offered;
  if (env.state.legacyOnly) {
    env.ctx.note(
      'info',
      'graphql: the server refused graphql-transport-ws; retrying with graphql-ws',
    );
  }
  return { ...connect, subprotocols: offered };
}

export const graphql: DialectSpec<GraphqlState> = {
  name: 'graphql',
  subprotocols: [TRANSPORT_WS, LEGACY_WS],
  commands: GRAPHQL_COMMANDS,
  initialState: () => ({
    nextId: 1,
    active: new Map(),
    offered: [],
    legacyOnly: false,
    retried: false,
  }),
  prepare,
  continues: bracesContinue,
  // Once: after the first connection showed the server only speaks the legacy protocol.
  retry: (state) => {
    if (!state.legacyOnly || state.retried) return false;
    state.retried = true;
    return true;
  },
  create: (inner, env) => new GraphqlDialect(inner, env),
};
