// Pure: the Dialects flags (--dialect, --init, --socketio-*, --variables, --target, --events) →
// DialectOptions, and the cheap detection test the feature registry runs at start-up (no codec
// is loaded unless a dialect is actually in play).

import { usageError } from '../errors.js';
import type { RawFlags } from '../options.js';
import { type BrokerFlags, type BrokerOptions, parseBrokerOptions } from './broker-options.js';

export const DIALECT_NAMES = ['socketio', 'graphql', 'jsonrpc', 'cdp', 'stomp', 'mqtt'] as const;
export type DialectName = (typeof DIALECT_NAMES)[number];

/** Negotiated subprotocols that select a dialect without --dialect (SPEC §12 "Detection"). */
export const DETECTED_SUBPROTOCOLS: Readonly<Record<string, DialectName>> = {
  'graphql-transport-ws': 'graphql',
  'graphql-ws': 'graphql',
  'v10.stomp': 'stomp',
  'v11.stomp': 'stomp',
  'v12.stomp': 'stomp',
  mqtt: 'mqtt',
};

export interface DialectOptions {
  /** --dialect; 'auto' = not given (detect from the URL path or the negotiated subprotocol). */
  name: DialectName | 'auto' | 'none';
  /** --init: the payload of the dialect's opening message (parsed JSON). */
  init: unknown;
  /** --socketio-version: 4 = Engine.IO 4 (Socket.IO 3/4), 2 = Engine.IO 3 (Socket.IO 2). */
  socketioVersion: 2 | 4;
  /** --socketio-path, normalised to start and end with '/' (default /socket.io/). */
  socketioPath: string;
  /** --variables: GraphQL variables for every operation. */
  variables: Record<string, unknown> | undefined;
  /** --target: CDP target to attach to through /json/list ('page', a type, an id or URL part). */
  target: string | undefined;
  /** --events: CDP raw output prints events too. */
  events: boolean;
  /** stomp and mqtt: --sub, --pub, --qos, --vhost, --client-id, --keepalive, --mqtt-version. */
  broker: BrokerOptions;
}

/** The subset of RawFlags this module reads (options.ts holds the one declaration). */
export type DialectFlags = BrokerFlags &
  Pick<
    RawFlags,
    'dialect' | 'init' | 'socketioVersion' | 'socketioPath' | 'variables' | 'target' | 'events'
  >;

function parseJson(name: string, raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw usageError(
      `${name} takes JSON: ${(err as Error).message}`,
      `e.g. ${name} '{"token":"abc"}'`,
    );
  }
}

export function parseDialectOptions(flags: DialectFlags): DialectOptions {
  let name: DialectOptions['name'] = 'auto';
  if (flags.dialect !== undefined) {
    const d = flags.dialect.trim().toLowerCase();
    if (d !== 'none' && !(DIALECT_NAMES as readonly string[]).includes(d)) {
      throw usageError(
        `unknown dialect '${flags.dialect}'`,
        `use one of: ${DIALECT_NAMES.join(', ')}, none`,
      );
    }
    name = d as DialectOptions['name'];
  }
  const only = (flag: string, given: boolean, ...dialects: DialectName[]): void => {
    if (!given || name === 'auto') return;
    if (!(dialects as string[]).includes(name)) {
      throw usageError(`${flag} is for --dialect ${dialects.join(' or ')}`);
    }
  };
  only('--socketio-version', flags.socketioVersion !== undefined, 'socketio');
  only('--socketio-path', flags.socketioPath !== undefined, 'socketio');
  only('--variables', flags.variables !== undefined, 'graphql');
  only('--target', flags.target !== undefined, 'cdp');
  only('--events', flags.events === true, 'cdp');

  let socketioVersion: 2 | 4 = 4;
  if (flags.socketioVersion !== undefined) {
    const v = flags.socketioVersion.trim();
    // Socket.IO 3 speaks Engine.IO 4, like Socket.IO 4.
    if (v === '4' || v === '3') socketioVersion = 4;
    else if (v === '2') socketioVersion = 2;
    else throw usageError(`--socketio-version must be 2 or 4, not '${flags.socketioVersion}'`);
  }
  let socketioPath = '/socket.io/';
  if (flags.socketioPath !== undefined) {
    const p = flags.socketioPath.trim();
    if (!p.startsWith('/') || /[?#\s]/.test(p)) {
      throw usageError(`--socketio-path must be a path like /socket.io/, not '${p}'`);
    }
    socketioPath = p.endsWith('/') ? p : `${p}/`;
  }
  let variables: Record<string, unknown> | undefined;
  if (flags.variables !== undefined) {
    const v = parseJson('--variables', flags.variables);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      throw usageError('--variables takes a JSON object, e.g. --variables \'{"id":1}\'');
    }
    variables = v as Record<string, unknown>;
  }
  const init = flags.init === undefined ? undefined : parseJson('--init', flags.init);
  if (init !== undefined && (name === 'graphql' || name === 'socketio')) {
    if (init === null || typeof init !== 'object' || Array.isArray(init)) {
      throw usageError(`--init for --dialect ${name} takes a JSON object`);
    }
  }
  const target = flags.target?.trim();
  if (target === '') throw usageError('--target needs a value, e.g. --target page');
  return {
    name,
    init,
    socketioVersion,
    socketioPath,
    variables,
    target,
    events: flags.events === true,
    broker: parseBrokerOptions(flags, name),
  };
}

/** The URL path asks for Socket.IO (contains the Socket.IO path). */
export function pathIsSocketIo(url: string, socketioPath = '/socket.io/'): boolean {
  try {
    return new URL(url).pathname.includes(socketioPath);
  } catch {
    return false;
  }
}

/**
 * Whether a dialect may be in play for this run, decided without loading any dialect code:
 * --dialect X, or (without it) a Socket.IO path or an offered subprotocol that selects one.
 */
export function dialectWanted(o: DialectOptions, url: string, subprotocols: string[]): boolean {
  if (o.name === 'none') return false;
  if (o.name !== 'auto') return true;
  return (
    pathIsSocketIo(url, o.socketioPath) ||
    subprotocols.some((s) => DETECTED_SUBPROTOCOLS[s] !== undefined)
  );
}
