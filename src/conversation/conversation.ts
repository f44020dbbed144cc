// The conversation layer (SPEC §11): runs the -x/--await steps in order on every new connection
// (and for every client in listen mode), answers matching messages (--reply), sends heartbeats,
// and fills in templates. One layer per connection, so a reconnect starts over with no captures;
// the {{seq}} counter lives in the feature, so it counts the whole run.

import { randomUUID } from 'node:crypto';
import { isRetryableClose } from '../close-codes.js';
import { WsxError } from '../errors.js';
import { Layer, type LayerContext, type LayerFeature } from '../layers/layer.js';
import type { Options, SessionOptions } from '../options.js';
import type { CloseInfo, MessagePeer, MessageView } from '../peer.js';
import { type CodecImpl, loadCodec } from '../views/codecs.js';
import { unfilteredText, viewText } from '../views/unfiltered.js';
import type { ConversationOptions, Step } from './options.js';
import { parseTemplate, renderTemplate, type Template, type TemplateScope } from './template.js';

const seconds = (ms: number) => `${Number((ms / 1000).toFixed(3))} s`;
const short = (s: string) => (s.length > 40 ? `'${s.slice(0, 37)}…'` : `'${s}'`);

export class ConversationFeature implements LayerFeature {
  readonly name = 'conversation';
  /** Messages sent in this run, from any source and connection ({{seq}} is this + 1). */
  sent = 0;

  constructor(
    readonly options: ConversationOptions,
    readonly session: SessionOptions,
    readonly kind: 'client' | 'listen',
    /** --encode: auto-replies and heartbeats go out in this form too. */
    readonly encoder: CodecImpl | undefined,
  ) {}

  wrap(peer: MessagePeer, ctx: LayerContext): MessagePeer {
    return new ConversationLayer(peer, ctx, this);
  }
}

export async function conversationFeature(o: Options): Promise<LayerFeature | undefined> {
  const c = o.conversation;
  if (!c.active) return undefined;
  const maxBytes = o.kind === 'client' ? o.connect.maxMessageSize : o.maxMessageSize;
  const encoder = c.views.encode
    ? await loadCodec(c.views.encode, { proto: c.views.proto, maxBytes })
    : undefined;
  return new ConversationFeature(c, o.session, o.kind, encoder);
}

/** The text --await and --reply match: the decoded message, before any --filter. */
function matchText(
  data: Buffer,
  binary: boolean,
  view: MessageView | undefined,
): string | undefined {
  if (view) {
    const before = unfilteredText.get(view);
    if (before !== undefined) return before;
    const text = viewText(view);
    if (text !== undefined) return text;
  }
  return binary ? undefined : data.toString('utf8');
}

export class ConversationLayer extends Layer {
  readonly name = 'conversation';
  /** Named groups captured by --await and --reply on this connection. */
  readonly captures = new Map<string, string>();
  private next = 0;
  private awaiting: { step: Extract<Step, { kind: 'await' }>; timer: NodeJS.Timeout } | undefined;
  private stepsDone: boolean;
  /** After the last step, the -w wait (client mode, -w not given): see outstanding(). */
  private holding = false;
  private ended = false;
  private held: Array<{ data: Buffer | string; binary: boolean }> = [];
  private heldBytes = 0;
  private drainWaiters: Array<() => void> = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly scope: TemplateScope;

  constructor(
    inner: MessagePeer,
    ctx: LayerContext,
    private readonly f: ConversationFeature,
  ) {
    super(inner, ctx);
    this.stepsDone = f.options.steps.length === 0;
    inner.on('sent', () => {
      f.sent++;
    });
    this.scope = {
      env: f.options.env,
      vars: f.options.vars,
      captures: this.captures,
      seq: () => f.sent + 1,
      now: () => ctx.now(),
      uuid: randomUUID,
    };
  }

  override start(): void {
    super.start();
    for (const hb of this.f.options.heartbeats) {
      const what = `--heartbeat '${hb.template.source}'`;
      const timer = setInterval(() => {
        if (this.ended || !this.isOpen) return;
        const text = this.render(hb.template, what);
        if (text !== undefined) this.sendOwn(text, true);
      }, hb.intervalMs);
      this.timers.add(timer);
    }
    this.advance();
  }

  // ---- steps ----

  private advance(): void {
    const steps = this.f.options.steps;
    while (!this.ended && this.next < steps.length) {
      const step = steps[this.next] as Step;
      if (step.kind === 'await') {
        const ms = this.f.session.awaitTimeoutMs;
        const timer = setTimeout(() => this.unmet(step, ` within ${seconds(ms)}`, true), ms);
        this.timers.add(timer);
        this.awaiting = { step, timer };
        return;
      }
      this.next++;
      const text = this.render(step.template, `-x ${short(step.template.source)}`);
      if (text === undefined) return;
      this.inner.input(text, this.f.session.binary);
    }
    if (!this.ended && !this.stepsDone) this.stepsFinished();
  }

  private stepsFinished(): void {
    this.stepsDone = true;
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const h of held) this.pass(h.data, h.binary);
    for (const w of this.drainWaiters.splice(0)) w();
    const { session } = this.f;
    // The controller closes at once when outstanding responses settle unless -w was given
    // (the dialect rule); after a script of steps the -w wait applies, so hold it here.
    if (
      this.f.kind === 'client' &&
      session.mode !== 'repl' &&
      !session.waitGiven &&
      session.waitMs > 0
    ) {
      this.holding = true;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.holding = false;
        this.settled();
      }, session.waitMs);
      this.timers.add(timer);
      return;
    }
    this.settled();
  }

  private unmet(step: Extract<Step, { kind: 'await' }>, why: string, close: boolean): void {
    if (this.ended) return;
    this.ended = true;
    this.clearTimers();
    this.awaiting = undefined;
    this.fail(
      new WsxError('unmet', `--await /${step.source}/ not matched${why}`, {
        code: 'AWAIT',
        hint: close
          ? 'raise --await-timeout, or check the regex against the messages shown'
          : undefined,
      }),
    );
    for (const w of this.drainWaiters.splice(0)) w();
    if (close) this.close(1000);
  }

  // ---- received ----

  protected override onMessage(data: Buffer, binary: boolean, view: MessageView | undefined): void {
    this.emit('message', data, binary, view);
    if (this.ended || view?.control) return;
    const text = matchText(data, binary, view);
    if (text === undefined) return;
    for (const rule of this.f.options.replies) {
      const m = rule.regex.exec(text);
      if (!m) continue;
      this.capture(m);
      const out = this.render(
        rule.template,
        `--reply ${short(`${rule.source}=>${rule.template.source}`)}`,
      );
      if (out !== undefined) this.sendOwn(out);
      // The first matching rule answers (like a routing table).
      break;
    }
    const waiting = this.awaiting;
    if (!waiting || this.ended) return;
    const m = waiting.step.regex.exec(text);
    if (!m) return;
    this.capture(m);
    clearTimeout(waiting.timer);
    this.timers.delete(waiting.timer);
    this.awaiting = undefined;
    this.next++;
    this.advance();
  }

  private capture(m: RegExpExecArray): void {
    for (const [k, v] of Object.entries(m.groups ?? {}))
      if (v !== undefined) this.captures.set(k, v);
  }

  protected override onClose(info: CloseInfo): void {
    const waiting = this.awaiting;
    // With --reconnect a retryable ending starts the steps again on the next connection.
    const retry = this.f.session.reconnect !== undefined && isRetryableClose(info.code);
    if (waiting && !retry) this.unmet(waiting.step, ': the connection ended', false);
    this.ended = true;
    this.clearTimers();
    for (const w of this.drainWaiters.splice(0)) w();
    super.onClose(info);
  }

  private clearTimers(): void {
    for (const t of this.timers) {
      clearTimeout(t);
      clearInterval(t);
    }
    this.timers.clear();
  }

  // ---- sent ----

  /**
   * A frame of the conversation's own (reply, heartbeat): `> [auto] …`, hidden with pings;
   * `heartbeat` marks a --heartbeat frame as one (json "heartbeat":true).
   */
  private sendOwn(text: string, heartbeat = false): void {
    if (!this.isOpen) return;
    const enc = this.f.encoder;
    const mark: MessageView = heartbeat ? { control: true, heartbeat } : { control: true };
    if (!enc) {
      this.sendAuto(text, false, mark);
      return;
    }
    try {
      this.sendAuto(enc.encode(text), true, { ...mark, text });
    } catch (err) {
      this.stop(err as WsxError);
    }
  }

  /** Fill in a template; a name that cannot be resolved ends the run (exit 2). */
  private render(t: Template, what: string): string | undefined {
    try {
      return renderTemplate(t, this.scope, what);
    } catch (err) {
      this.stop(err as WsxError);
      return undefined;
    }
  }

  private stop(err: WsxError): void {
    if (this.ended) return;
    this.ended = true;
    this.clearTimers();
    this.fail(err);
    for (const w of this.drainWaiters.splice(0)) w();
    this.close(1000);
  }

  /** Typed and piped lines: held while the steps run, then templated with --template. */
  override input(data: Buffer | string, binary: boolean): void {
    if (!this.stepsDone && !this.ended) {
      this.held.push({ data, binary });
      this.heldBytes += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
      return;
    }
    this.pass(data, binary);
  }

  private pass(data: Buffer | string, binary: boolean): void {
    if (!this.f.options.template) {
      this.inner.input(data, binary);
      return;
    }
    const source = typeof data === 'string' ? data : data.toString('utf8');
    try {
      const text = renderTemplate(
        parseTemplate(source, `line ${short(source)}`),
        this.scope,
        `line ${short(source)}`,
      );
      this.inner.input(binary ? Buffer.from(text) : text, binary);
    } catch (err) {
      // In the REPL a bad line is reported and the session goes on; a script stops (exit 2).
      if (this.f.session.mode === 'repl') this.ctx.note('warn', (err as Error).message);
      else this.stop(err as WsxError);
    }
  }

  override get bufferedAmount(): number {
    return this.inner.bufferedAmount + this.heldBytes;
  }

  /** Input is not "written" until the steps have run: the end of input waits for them. */
  override async waitForDrain(below?: number): Promise<void> {
    if (!this.stepsDone && !this.ended) {
      await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    }
    return this.inner.waitForDrain(below);
  }

  override outstanding(): number {
    const mine = !this.ended && (!this.stepsDone || this.holding) ? 1 : 0;
    return mine + this.inner.outstanding();
  }
}
