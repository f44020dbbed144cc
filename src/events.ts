// The events a session shows: what the renderers turn into text. Pure data, no I/O.

import type { MessageView } from './peer.js';

export interface EventBase {
  /** ms since the epoch */
  time: number;
  /** Listen mode: the id of the client the event belongs to. */
  client?: number;
}

export type WsxEvent =
  | (EventBase & {
      event: 'open';
      url: string;
      protocol: string;
      extensions: string;
      /** Listen mode: the client's address:port. */
      remote?: string;
    })
  /** Listen mode: the server is up. */
  | (EventBase & { event: 'listening'; url: string })
  | (EventBase & {
      event: 'message';
      direction: 'in' | 'out';
      binary: boolean;
      data: Buffer;
      /** Typed by the user in the REPL: the terminal already shows it. */
      typed?: boolean;
      /** Sent by a layer on its own (auto-reply, heartbeat, dialect handshake): `> [auto] …`. */
      auto?: boolean;
      /** What layers decoded (dialect frame, decoded codec value, filter output): see peer.ts. */
      view?: MessageView;
    })
  | (EventBase & {
      event: 'ping' | 'pong';
      direction: 'in' | 'out';
      data: Buffer;
      /** Round-trip time of our own ping, in ms (pong events only). */
      rtt?: number;
      /** Sent by the user in the REPL, or automatically (pong in answer to a ping). */
      typed?: boolean;
      auto?: boolean;
    })
  | (EventBase & {
      event: 'close';
      code: number;
      reason: string;
      /** RFC 6455 "was clean": the close handshake completed. */
      clean: boolean;
    })
  | (EventBase & {
      event: 'error';
      message: string;
      code?: string;
      hint?: string;
      details?: string[];
    })
  /** Human notes: warnings and status lines (not part of the json schema unless stated). */
  | (EventBase & { event: 'note'; level: 'info' | 'warn'; text: string });
