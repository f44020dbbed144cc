// The dialect feature (first in src/layers/features.ts): decides which dialect a connection
// speaks (--dialect, or detection from the URL path and the negotiated subprotocol), prepares
// the connection for it, wraps each connection's peer in that dialect's layer, announces a
// detected dialect, and brings the REPL commands. State kept here outlives one connection, so
// --reconnect re-joins and re-subscribes.

import { usageError } from '../errors.js';
import type { LayerContext, LayerFeature } from '../layers/layer.js';
import type { ClientOptions, ConnectOptions } from '../options.js';
import type { MessagePeer } from '../peer.js';
import type { Command } from '../session/commands.js';
import { COMMON_COMMANDS, type Dialect, type DialectSpec } from './dialect.js';
import {
  DETECTED_SUBPROTOCOLS,
  type DialectName,
  type DialectOptions,
  pathIsSocketIo,
} from './options.js';
import { loadDialect } from './registry.js';

interface Loaded {
  spec: DialectSpec;
  state: unknown;
}

/** Which dialects this run may speak, in the order detection tries them. */
function candidates(o: DialectOptions, connect: ConnectOptions): DialectName[] {
  if (o.name === 'none') return [];
  if (o.name !== 'auto') return [o.name];
  const out: DialectName[] = [];
  if (pathIsSocketIo(connect.url, o.socketioPath)) out.push('socketio');
  for (const s of connect.subprotocols) {
    const d = DETECTED_SUBPROTOCOLS[s];
    if (d !== undefined && !out.includes(d)) out.push(d);
  }
  return out;
}

/** What the dialect feature offers beyond LayerFeature, for the lead's controller and REPL. */
export interface DialectFeature extends LayerFeature {
  /**
   * Call when a connection closed before its dialect handshake completed: the options to connect
   * again with at once (not counted as a --reconnect), or undefined to end as usual.
   */
  retry(connect: ConnectOptions, ctx: LayerContext): Promise<ConnectOptions | undefined>;
  /** REPL continuation rule of the dialect (GraphQL: braces), undefined = the default. */
  continues: ((text: string) => boolean) | undefined;
}

export async function dialectFeature(options: ClientOptions): Promise<DialectFeature | undefined> {
  const o = options.dialect;
  const names = candidates(o, options.connect);
  if (names.length === 0) return undefined;
  const loaded = new Map<DialectName, Loaded>();
  for (const name of names) {
    const spec = await loadDialect(name);
    loaded.set(name, { spec, state: spec.initialState() });
  }
  const explicit = o.name !== 'auto';
  /** The Socket.IO path form was detected (no subprotocol decides it). */
  const byPath = !explicit && names[0] === 'socketio';

  const pick = (protocol: string): Loaded | undefined => {
    if (explicit || byPath) return loaded.get(names[0] as DialectName);
    const d = DETECTED_SUBPROTOCOLS[protocol];
    return d === undefined ? undefined : loaded.get(d);
  };

  const single = names.length === 1 ? loaded.get(names[0] as DialectName) : undefined;
  const feature: DialectFeature = {
    name: 'dialect',
    continues: single?.spec.continues?.bind(single.spec),
    async retry(connect, ctx) {
      for (const l of loaded.values()) {
        if (!l.spec.retry?.(l.state)) continue;
        return l.spec.prepare
          ? l.spec.prepare(connect, { options: o, state: l.state, ctx, explicit })
          : connect;
      }
      return undefined;
    },
    async prepare(connect: ConnectOptions, ctx: LayerContext): Promise<ConnectOptions> {
      let out = connect;
      if (explicit) {
        const only = loaded.get(names[0] as DialectName);
        if (only) {
          // Subprotocols are offered only with -s or --dialect (SPEC §12).
          if (out.subprotocols.length === 0 && only.spec.subprotocols.length > 0) {
            out = { ...out, subprotocols: [...only.spec.subprotocols] };
          }
          if (only.spec.prepare) {
            out = await only.spec.prepare(out, {
              options: o,
              state: only.state,
              ctx,
              explicit: true,
            });
          }
        }
      } else if (byPath) {
        const sio = loaded.get('socketio');
        if (sio?.spec.prepare) {
          out = await sio.spec.prepare(out, { options: o, state: sio.state, ctx, explicit: false });
        }
      }
      return out;
    },
    wrap(peer: MessagePeer, ctx: LayerContext): MessagePeer {
      const chosen = pick(peer.info.protocol);
      if (!chosen) return peer;
      const why = byPath ? 'the URL path' : peer.info.protocol;
      const announce = explicit
        ? undefined
        : `dialect: ${chosen.spec.name} (${why}); --dialect none for plain frames`;
      return chosen.spec.create(peer, { options: o, state: chosen.state, ctx, announce });
    },
    commands: commandsFor([...loaded.values()].map((l) => l.spec)),
  };
  return feature;
}

/** One REPL command per name across the candidate dialects; each runs on the current layer. */
function commandsFor(specs: DialectSpec[]): Command[] {
  const seen = new Map<string, Command>();
  const all = [...COMMON_COMMANDS, ...specs.flatMap((s) => s.commands)];
  for (const c of all) {
    if (seen.has(c.name)) continue;
    seen.set(c.name, {
      name: c.name,
      usage: c.usage,
      help: c.help,
      needsPeer: true,
      only: 'client',
      run: (args, ctx) => {
        const layer = ctx.layer<Dialect>('dialect');
        if (!layer) throw usageError(`/${c.name} needs a dialect connection`);
        layer.command(c.name, args, ctx.print);
      },
    });
  }
  return [...seen.values()];
}
