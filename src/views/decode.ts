// The decode layer (--decode, --encode; SPEC §14): received binary messages are shown as the
// value their codec holds, and typed, piped and -x JSON goes out in that binary form. A message
// that does not decode is shown as it came (hex) with a one-line note; nothing aborts.

import { toWsxError } from '../errors.js';
import { Layer, type LayerContext, type LayerFeature } from '../layers/layer.js';
import type { Options, SessionOptions } from '../options.js';
import type { MessagePeer, MessageView } from '../peer.js';
import { type CodecImpl, loadCodec } from './codecs.js';
import { decodedText } from './unfiltered.js';

export class DecodeFeature implements LayerFeature {
  readonly name = 'decode';
  constructor(
    readonly decoder: CodecImpl | undefined,
    readonly encoder: CodecImpl | undefined,
    readonly session: SessionOptions,
    /** Raw output writes `view.text`: it keeps the bytes unless --decode-raw. */
    readonly textShown: boolean,
  ) {}

  wrap(peer: MessagePeer, ctx: LayerContext): MessagePeer {
    return new DecodeLayer(peer, ctx, this);
  }
}

export async function decodeFeature(o: Options): Promise<LayerFeature | undefined> {
  const v = o.conversation.views;
  if (v.decode === undefined && v.encode === undefined) return undefined;
  const maxBytes = o.kind === 'client' ? o.connect.maxMessageSize : o.maxMessageSize;
  const load = (codec: typeof v.decode) =>
    codec === undefined ? undefined : loadCodec(codec, { proto: v.proto, maxBytes });
  const [decoder, encoder] = await Promise.all([load(v.decode), load(v.encode)]);
  return new DecodeFeature(decoder, encoder, o.session, o.output.format !== 'raw' || v.decodeRaw);
}

export class DecodeLayer extends Layer {
  readonly name = 'decode';

  constructor(
    inner: MessagePeer,
    ctx: LayerContext,
    private readonly f: DecodeFeature,
  ) {
    super(inner, ctx);
  }

  protected override onMessage(data: Buffer, binary: boolean, view: MessageView | undefined): void {
    const decoder = this.f.decoder;
    // Text frames, and frames a dialect below already decoded, are not this codec's.
    if (!decoder || !binary || view?.control || view?.text !== undefined) {
      this.emit('message', data, binary, view);
      return;
    }
    let next: MessageView;
    try {
      const d = decoder.decode(data);
      next = { ...view, decoded: { codec: decoder.codec, value: d.value } };
      if (this.f.textShown) next.text = d.text;
      else decodedText.set(next, d.text);
    } catch (err) {
      const why = ((err as Error).message || String(err)).split('\n')[0] ?? '';
      next = { ...view, note: `did not decode as ${decoder.codec}: ${why}` };
    }
    this.emit('message', data, binary, next);
  }

  /** --encode: each message the user gives is JSON (any text for gzip/deflate) → binary. */
  override input(data: Buffer | string, binary: boolean): void {
    const encoder = this.f.encoder;
    if (!encoder) {
      this.inner.input(data, binary);
      return;
    }
    const text = typeof data === 'string' ? data : data.toString('utf8');
    let bytes: Buffer;
    try {
      bytes = encoder.encode(text);
    } catch (err) {
      // The REPL reports a bad line and goes on; a pipe or script stops with exit 2.
      if (this.f.session.mode === 'repl') {
        this.ctx.note('warn', (err as Error).message);
        return;
      }
      this.fail(toWsxError(err, 'usage'));
      this.close(1000);
      return;
    }
    // Shown as the JSON it was (the frame itself is binary).
    this.inner.send(bytes, true, {
      text,
      decoded: { codec: encoder.codec, value: safeParse(text) },
    });
  }
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
