// What a session (REPL or pipe) drives: one client connection (Controller) or a listening server
// with many clients (Hub). Sessions and slash commands see only this interface.

import type { Ending } from '../errors.js';
import type { MessagePeer } from '../peer.js';
import type { MessageBatch } from './framing.js';

export interface Driver {
  readonly kind: 'client' | 'listen';
  readonly ended: Promise<Ending>;
  readonly isFinished: boolean;
  /** A connection is open (client), or at least one client is connected (listen). */
  readonly connected: boolean;
  /** Bytes queued locally and not yet written (the largest over clients in listen mode). */
  readonly bufferedAmount: number;
  /** Called when the REPL should stop reading (the connection ended). */
  onClosed: (() => void) | undefined;

  /** Connect, or start listening. False when the run is already over. */
  open(): Promise<boolean>;
  /** Send to the peer (listen: to every client, or queued for the first one). */
  send(data: Buffer | string, binary: boolean, typed?: boolean): void;
  /** Send the messages of one input chunk together (one socket write where possible). */
  sendMany?(messages: Buffer[], binary: boolean): void;
  /** The same for a chunk's messages as ranges of it (no Buffer per message on the fast path). */
  sendBatch?(batch: MessageBatch, binary: boolean): void;
  /** --max-message-size (the largest message /file sends). */
  readonly maxMessageSize?: number;
  /** Client mode: the current connection is open right now. */
  readonly live?: boolean;
  /** Client mode: bumped on every new connection (senders for an old one stop). */
  readonly generation?: number;
  waitForDrain(below: number): Promise<void>;
  ping(data: Buffer): void;
  pong(data: Buffer): void;
  /** /close: start the close handshake (listen: with every client). */
  closeConnection(code: number, reason: string): void;
  /** Input is over (stdin EOF, last -x). */
  inputDone(): void;
  /** The user is done: close with 1000 and end with exit 0. */
  quit(): void;
  interrupt(signal: 'SIGINT' | 'SIGTERM'): void;
  note(level: 'info' | 'warn', text: string): void;
  /** Stop (false) or resume (true) reading from the network: stdout back-pressure. */
  setReceiving(on: boolean): void;
  /** /status text. */
  status(now: number): string;
  /** /headers text (client mode). */
  headers(): string;
  /** Client mode, --reconnect: called after an automatic reconnect succeeds. */
  onReopened?: (() => void) | undefined;
  /** Client mode: /reconnect. */
  reconnect?(): Promise<void>;
  /** Client mode: the layer called `name` on the current connection (see CommandContext.layer). */
  layer?<T extends MessagePeer>(name: string): T | undefined;
  /** Listen mode: /clients, /to, /kick. */
  clients?(): string;
  sendTo?(id: number, data: string): void;
  kick?(id: number, code: number, reason: string): void;
}
