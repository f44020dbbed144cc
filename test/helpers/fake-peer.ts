// A MessagePeer that records what is sent and lets a test deliver frames: for unit-testing
// layers (dialects) without a socket.

import { EventEmitter } from 'node:events';
import type { LayerContext } from '../../src/layers/layer.js';
import type {
  CloseInfo,
  HandshakeInfo,
  MessagePeer,
  MessageView,
  PeerEvents,
  PeerStats,
} from '../../src/peer.js';

export interface SentFrame {
  data: Buffer;
  binary: boolean;
  view: MessageView | undefined;
  /** The text of a text frame. */
  text: string;
}

export class FakePeer extends EventEmitter<PeerEvents> implements MessagePeer {
  readonly info: HandshakeInfo;
  readonly stats: PeerStats = {
    openedAt: Date.now(),
    messagesIn: 0,
    messagesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    lastRtt: undefined,
  };
  readonly sent: SentFrame[] = [];
  closed: { code: number | undefined; reason: string | undefined } | undefined;
  started = false;
  terminated = false;

  constructor(info: Partial<HandshakeInfo> = {}) {
    super();
    this.info = { url: 'ws://127.0.0.1:1/', protocol: '', extensions: '', ...info };
  }

  get isOpen(): boolean {
    return this.closed === undefined && !this.terminated;
  }
  get isClosed(): boolean {
    return !this.isOpen;
  }
  get bufferedAmount(): number {
    return 0;
  }
  input(data: Buffer | string, binary: boolean): void {
    this.send(data, binary);
  }
  send(data: Buffer | string, binary: boolean, view?: MessageView): void {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    this.sent.push({ data: buf, binary, view, text: buf.toString('utf8') });
    this.emit('sent', buf, binary, view);
  }
  sendMany(messages: ReadonlyArray<Buffer | string>, binary: boolean): void {
    for (const m of messages) this.send(m, binary);
  }
  outstanding(): number {
    return 0;
  }
  waitForDrain(): Promise<void> {
    return Promise.resolve();
  }
  ping(): void {}
  pong(): void {}
  close(code?: number, reason?: string): void {
    if (this.closed) return;
    this.closed = { code, reason };
  }
  terminate(): void {
    this.terminated = true;
  }
  start(): void {
    this.started = true;
  }
  pause(): void {}
  resume(): void {}

  /** The other side sends a frame. */
  deliver(data: Buffer | string, binary = typeof data !== 'string'): void {
    this.emit('message', typeof data === 'string' ? Buffer.from(data) : data, binary);
  }
  /** The connection ends. */
  end(info: Partial<CloseInfo> = {}): void {
    this.emit('close', {
      code: 1000,
      reason: '',
      closeFrameReceived: true,
      initiatedByUs: false,
      ...info,
    });
  }
  /** Texts of the frames sent so far, and forget them. */
  take(): string[] {
    return this.sent.splice(0).map((f) => f.text);
  }
}

/** Everything a layer emits upward, for assertions. */
export function watch(peer: MessagePeer) {
  const seen = {
    messages: [] as Array<{ data: Buffer; binary: boolean; view: MessageView | undefined }>,
    sent: [] as Array<{ text: string; view: MessageView | undefined }>,
    errors: [] as Array<{ kind: string; message: string; code: string | undefined }>,
    notes: [] as string[],
    settled: 0,
    closes: [] as CloseInfo[],
  };
  peer.on('message', (data, binary, view) => seen.messages.push({ data, binary, view }));
  peer.on('sent', (data, _binary, view) => seen.sent.push({ text: data.toString(), view }));
  peer.on('error', (e) => seen.errors.push({ kind: e.kind, message: e.message, code: e.code }));
  peer.on('note', (_l, t) => seen.notes.push(t));
  peer.on('settled', () => seen.settled++);
  peer.on('close', (i) => seen.closes.push(i));
  return seen;
}

export function fakeContext(verbose?: string[]): LayerContext & { notes: string[] } {
  const notes: string[] = [];
  return {
    now: () => Date.now(),
    note: (_level, text) => notes.push(text),
    verbose: verbose ? (line) => verbose.push(line) : undefined,
    notes,
  };
}
