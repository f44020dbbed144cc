// --ping-interval / --ping-timeout as a layer: ping regularly; a ping unanswered in time means a
// dead link. While delivery is paused (stdout cannot keep up) the socket is not read, so a pong
// cannot arrive: the deadline then waits for delivery to resume instead of killing a healthy
// connection (issue 9, defect 8).

import { monotonicMs } from '../clock.js';
import { WsxError } from '../errors.js';
import type { MessagePeer } from '../peer.js';
import { Layer, type LayerContext } from './layer.js';

export interface KeepaliveOptions {
  intervalMs: number;
  timeoutMs: number | undefined;
  /** Show our own pings (the renderers show outgoing pings as `> [ping]`). */
  showPing: () => void;
}

export class KeepaliveLayer extends Layer {
  readonly name = 'keepalive';
  private lastPong = 0;
  private paused = false;
  /** monotonicMs() when the oldest unanswered ping was sent, undefined = none pending. */
  private waitingSince: number | undefined;
  private readonly interval: NodeJS.Timeout;
  private deadline: NodeJS.Timeout | undefined;

  constructor(
    inner: MessagePeer,
    ctx: LayerContext,
    private readonly o: KeepaliveOptions,
  ) {
    super(inner, ctx);
    inner.on('pong', (_data, direction) => {
      if (direction !== 'in') return;
      this.lastPong = monotonicMs();
      this.waitingSince = undefined;
    });
    this.interval = setInterval(() => this.tick(), o.intervalMs);
    inner.once('close', () => this.stop());
  }

  private tick(): void {
    if (!this.inner.isOpen) return;
    const sentAt = monotonicMs();
    this.inner.ping(Buffer.alloc(0));
    this.o.showPing();
    if (this.o.timeoutMs === undefined) return;
    this.waitingSince ??= sentAt;
    if (this.deadline === undefined) this.arm(this.o.timeoutMs);
  }

  private arm(ms: number): void {
    this.deadline = setTimeout(() => {
      this.deadline = undefined;
      this.check();
    }, ms);
  }

  private check(): void {
    const since = this.waitingSince;
    if (since === undefined || this.lastPong >= since || !this.inner.isOpen) return;
    // Not reading: the pong may be sitting unread in the socket. Decide after resume().
    if (this.paused) return;
    const timeoutMs = this.o.timeoutMs ?? 0;
    const late = monotonicMs() - since;
    if (late < timeoutMs) {
      this.arm(timeoutMs - late);
      return;
    }
    this.fail(
      new WsxError('protocol', `no pong within ${timeoutMs / 1000} s: the connection is dead`, {
        code: 'PING_TIMEOUT',
      }),
    );
    this.inner.terminate();
  }

  override pause(): void {
    this.paused = true;
    super.pause();
  }

  override resume(): void {
    super.resume();
    if (!this.paused) return;
    this.paused = false;
    // The clock restarts: whatever waited in the socket is read now; give it a full timeout.
    if (this.waitingSince !== undefined) {
      this.waitingSince = monotonicMs();
      if (this.deadline === undefined) this.arm(this.o.timeoutMs ?? 0);
    }
  }

  private stop(): void {
    clearInterval(this.interval);
    if (this.deadline !== undefined) clearTimeout(this.deadline);
  }
}
