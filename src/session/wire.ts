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
  typing: () => boolean;
  onMessage(data: Buffer, binary: boolean, view: MessageView | undefined): void;
  onError(err: WsxError): void;
}

export function wirePeer(peer: MessagePeer, d: WireDeps): void {
  const at = d.client === undefined ? {} : { client: d.client };
  const { emit, now } = d;
  peer.on('message', (data, binary, view) => d.onMessage(data, binary, view));
  if (d.showOutgoing) {
    peer.on('sent', (data, binary, view) => {
      const auto = view?.auto === true;
      emit({
        time: now(),
        event: 'message',
        direction: 'out',
        binary,
        data,
        typed: !auto && d.typing(),
        ...(auto ? { auto } : {}),
        ...(view ? { view } : {}),
        ...at,
      });
    });
  }
  peer.on('ping', (data) => emit({ time: now(), event: 'ping', direction: 'in', data, ...at }));
  peer.on('pong', (data, direction, rtt) =>
    emit({ time: now(), event: 'pong', direction, data, rtt, auto: direction === 'out', ...at }),
  );
  peer.on('note', (level, text) => emit({ time: now(), event: 'note', level, text, ...at }));
  peer.on('error', (err) => d.onError(err));
}
