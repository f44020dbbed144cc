// Peer events → the events a session shows, for client and listen mode alike: one place that
// says how a received message, a sent frame, a ping, a pong and a layer's note are shown.

import type { WsxError } from '../errors.js';
import type { MessagePeer, MessageView } from '../peer.js';
import type { Emit } from './lifecycle.js';

export interface WireDeps {
  emit: Emit;
  now: () => number;
  /** Listen mode: the client's id. */
  client?: number;
  /** Show outgoing frames (raw mode shows none, so it skips the work). */
  showOutgoing: boolean;
  /** The frame being sent right now was typed in the REPL (the terminal already shows it). */
  typing(): boolean;
  onMessage(data: Buffer, binary: boolean, view: MessageView | undefined): void;
  onError(err: WsxError): void;
}

/**
 * The listeners are shared functions that find their deps on the peer they are called on
 * (EventEmitter's `this`), not closures: listen mode wires one peer per client, and six closures
 * per client were most of what wiring cost (SPEC §16).
 */
const WIRE: unique symbol = Symbol('wsx.wire');
interface Wiring {
  d: WireDeps;
  /** Spread into every event: the client's id in listen mode. */
  at: { client?: number };
}
interface Wired {
  [WIRE]?: Wiring;
}
const NO_CLIENT = Object.freeze({});

function wireOf(peer: MessagePeer): Wiring {
  return (peer as Wired)[WIRE] as Wiring;
}

export function wirePeer(peer: MessagePeer, d: WireDeps): void {
  (peer as Wired)[WIRE] = { d, at: d.client === undefined ? NO_CLIENT : { client: d.client } };
  peer.on('message', onMessage);
  if (d.showOutgoing) peer.on('sent', onSent);
  peer.on('ping', onPing);
  peer.on('pong', onPong);
  peer.on('note', onNote);
  peer.on('error', onError);
}

function onMessage(
  this: MessagePeer,
  data: Buffer,
  binary: boolean,
  view: MessageView | undefined,
): void {
  wireOf(this).d.onMessage(data, binary, view);
}

function onSent(
  this: MessagePeer,
  data: Buffer,
  binary: boolean,
  view: MessageView | undefined,
): void {
  const { d, at } = wireOf(this);
  const auto = view?.auto === true;
  d.emit({
    time: d.now(),
    event: 'message',
    direction: 'out',
    binary,
    data,
    typed: !auto && d.typing(),
    ...(auto ? { auto } : {}),
    ...(view ? { view } : {}),
    ...at,
  });
}

function onPing(this: MessagePeer, data: Buffer): void {
  const { d, at } = wireOf(this);
  d.emit({ time: d.now(), event: 'ping', direction: 'in', data, ...at });
}

function onPong(
  this: MessagePeer,
  data: Buffer,
  direction: 'in' | 'out',
  rtt: number | undefined,
): void {
  const { d, at } = wireOf(this);
  d.emit({ time: d.now(), event: 'pong', direction, data, rtt, auto: direction === 'out', ...at });
}

function onNote(this: MessagePeer, level: 'info' | 'warn', text: string): void {
  const { d, at } = wireOf(this);
  d.emit({ time: d.now(), event: 'note', level, text, ...at });
}

function onError(this: MessagePeer, err: WsxError): void {
  wireOf(this).d.onError(err);
}
