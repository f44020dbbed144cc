// The filter layer (--filter '<jq>', REPL /filter; SPEC §14): every received JSON message goes
// through a jq program and its output values are shown instead (`empty` hides the message);
// other messages pass unchanged. The program lives in the feature, so /filter outlasts a
// reconnect. Messages that arrive in the same turn of the event loop share one jq run.

import { Layer, type LayerContext, type LayerFeature } from '../layers/layer.js';
import type { Options } from '../options.js';
import type { CloseInfo, MessagePeer, MessageView } from '../peer.js';
import type { Command } from '../session/commands.js';
import type { JqProgram } from './jq.js';
import { unfilteredText, viewText } from './unfiltered.js';

export class FilterFeature implements LayerFeature {
  readonly name = 'filter';
  program: JqProgram | undefined;
  readonly commands: Command[];

  constructor(program: JqProgram | undefined) {
    this.program = program;
    this.commands = [
      {
        name: 'filter',
        usage: '/filter [jq program]',
        help: 'show received JSON messages through a jq program; /filter alone clears it',
        needsPeer: false,
        run: async (args, ctx) => {
          const source = args.trim();
          if (source === '') {
            ctx.print(
              this.program ? `filter cleared (was: ${this.program.source})` : 'no filter set',
            );
            this.program = undefined;
            return;
          }
          const { compileJq } = await import('./jq.js');
          // A program that does not compile leaves the current one in place.
          this.program = await compileJq(source, '/filter');
          ctx.print(`filter: ${source}`);
        },
      },
    ];
  }

  wrap(peer: MessagePeer, ctx: LayerContext): MessagePeer {
    return new FilterLayer(peer, ctx, this);
  }
}

/** --filter, or the REPL (where /filter can set one later). */
export async function filterFeature(o: Options): Promise<LayerFeature | undefined> {
  const source = o.conversation.views.filter;
  if (source === undefined && o.session.mode !== 'repl') return undefined;
  if (source === undefined) return new FilterFeature(undefined);
  const { compileJq } = await import('./jq.js');
  return new FilterFeature(await compileJq(source));
}

interface Queued {
  data: Buffer;
  binary: boolean;
  view: MessageView | undefined;
}

/** JSON text, or undefined (JSON.parse decides: exactly one value, nothing after it). */
function jsonText(
  data: Buffer,
  binary: boolean,
  view: MessageView | undefined,
): string | undefined {
  if (view?.control) return undefined;
  const text = viewText(view) ?? (binary ? undefined : data.toString('utf8'));
  if (text === undefined || !/^\s*[[{"\d tfn-]/.test(text)) return undefined;
  try {
    JSON.parse(text);
    return text;
  } catch {
    return undefined;
  }
}

export class FilterLayer extends Layer {
  readonly name = 'filter';
  private queue: Queued[] = [];
  private scheduled = false;

  constructor(
    inner: MessagePeer,
    ctx: LayerContext,
    private readonly f: FilterFeature,
  ) {
    super(inner, ctx);
  }

  protected override onMessage(data: Buffer, binary: boolean, view: MessageView | undefined): void {
    if (!this.f.program && this.queue.length === 0) {
      this.emit('message', data, binary, view);
      return;
    }
    this.queue.push({ data, binary, view });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  protected override onClose(info: CloseInfo): void {
    // Everything received before the close is shown before it.
    this.flush();
    super.onClose(info);
  }

  private flush(): void {
    this.scheduled = false;
    const queue = this.queue;
    this.queue = [];
    if (queue.length === 0) return;
    const program = this.f.program;
    const texts = queue.map((q) => (program ? jsonText(q.data, q.binary, q.view) : undefined));
    const inputs = texts.filter((t): t is string => t !== undefined);
    const results = program
      ? program.run(inputs, (d) => this.emit('note', 'info', `--filter: ${d.trim()}`))
      : [];
    let r = 0;
    for (let i = 0; i < queue.length; i++) {
      const q = queue[i] as Queued;
      const text = texts[i];
      if (text === undefined) {
        this.emit('message', q.data, q.binary, q.view);
        continue;
      }
      const result = results[r++] ?? { values: [] };
      if (result.error !== undefined) this.emit('note', 'warn', `--filter: jq: ${result.error}`);
      const next: MessageView = {
        ...q.view,
        filtered: result.values.map((v) => JSON.parse(v) as unknown),
        text: result.values.join('\n'),
        body: undefined,
        ...(result.values.length === 0 ? { hidden: true } : {}),
      };
      unfilteredText.set(next, text);
      this.emit('message', q.data, q.binary, next);
    }
  }
}
