// Pretty renderer: for people at a terminal. Everything but errors and warnings on stdout.

import type { WsxEvent } from '../events.js';
import type { OutputOptions } from '../options.js';
import { build, type Chunks } from './chunks.js';
import type { Rendered, Renderer } from './renderer.js';
import { errorLines } from './renderer.js';
import { sanitizeLine } from './sanitize.js';
import {
  clock,
  describeClose,
  HEXDUMP_LIMIT,
  hexdump,
  type Palette,
  previewControl,
  previewInto,
  toJson,
} from './text.js';

type MessageEvent = Extract<WsxEvent, { event: 'message' }>;

export function createPrettyRenderer(o: OutputOptions, p: Palette, pe: Palette): Renderer {
  const hexLimit = o.maxDisplay > 0 ? Math.min(HEXDUMP_LIMIT, o.maxDisplay) : HEXDUMP_LIMIT;

  const prefixOf = (ev: WsxEvent): string => {
    let prefix = '';
    if (o.timestamps) prefix += `${p.dim(clock(ev.time))} `;
    if (ev.client !== undefined) prefix += `${p.blue(`#${ev.client}`)} `;
    return prefix;
  };

  /** Prefix the first line with the time (and client id); indent the rest to match. */
  const lines = (ev: WsxEvent, first: string, rest: string[] = []): string => {
    const prefix = prefixOf(ev);
    const pad = ' '.repeat(visibleLength(prefix));
    let s = `${prefix}${first}\n`;
    for (const r of rest) s += `${pad}${r}\n`;
    return s;
  };

  /**
   * A message: `< label body`, or what layers made of it (MessageView): filter values, one per
   * line; a dialect's label and body; a decoder's value; a note. Built in Chunks, so a message of
   * any size renders in memory linear in its size.
   */
  const message = (ev: MessageEvent): Rendered => {
    const view = ev.view;
    if (ev.typed || view?.hidden) return {};
    const auto = ev.auto === true || view?.auto === true;
    // --hide-ping-pong: pings' kin (heartbeats, auto-replies), never acks or results (SPEC §12).
    if (o.hidePingPong && (auto || view?.heartbeat === true)) return {};
    // jq's `empty`: the filter hid the message.
    if (view?.filtered?.length === 0) return {};
    const prefix = prefixOf(ev);
    const pad = ' '.repeat(visibleLength(prefix));
    // Continuation lines line up under the body.
    const nl = `\n${pad}  `;
    let head = ev.direction === 'in' ? p.cyan('<') : p.dim('>');
    if (auto && ev.direction === 'out') head += ` ${p.dim('[auto]')}`;
    const label = view?.label ?? (view?.decoded ? `[${view.decoded.codec}]` : undefined);
    if (label) head += ` ${p.yellow(sanitizeLine(label, p.dim))}`;
    const render = (out: Chunks) => {
      const show = (data: Buffer) =>
        previewInto(out, data, { max: o.maxDisplay, prettyJson: o.prettyJson, paint: p, nl });
      if (view?.filtered) {
        for (const value of view.filtered) {
          out.add(`${prefix}${head} `);
          show(Buffer.from(toJson(value)));
          out.add('\n');
        }
      } else {
        const body =
          view?.body ??
          view?.text ??
          (view?.decoded !== undefined ? toJson(view.decoded.value) : undefined);
        out.add(prefix + head);
        if (body !== undefined) {
          if (body !== '') {
            out.add(' ');
            show(Buffer.from(body));
          }
          out.add('\n');
        } else if (ev.binary) {
          out.add(` ${p.magenta(`[binary ${ev.data.length} B]`)}\n`);
          for (const l of hexdump(ev.data, hexLimit, p)) out.add(`${pad}  ${l}\n`);
        } else {
          out.add(' ');
          show(ev.data);
          out.add('\n');
        }
      }
      if (view?.note) out.add(`${pad}  ${p.dim(sanitizeLine(view.note, p.dim))}\n`);
    };
    return { out: build(render) };
  };

  return (ev): Rendered => {
    switch (ev.event) {
      case 'open': {
        if (o.quiet) return {};
        const extra: string[] = [];
        if (ev.protocol) extra.push(`subprotocol: ${sanitizeLine(ev.protocol, p.dim)}`);
        if (ev.extensions) extra.push(`extensions: ${sanitizeLine(ev.extensions, p.dim)}`);
        const tail = extra.length ? ` ${p.dim(`(${extra.join('; ')})`)}` : '';
        if (ev.remote !== undefined) {
          return {
            out: lines(
              ev,
              `${p.green('connected')} from ${sanitizeLine(ev.remote)} ${sanitizeLine(ev.url)}${tail}`,
            ),
          };
        }
        return { out: lines(ev, `${p.green('Connected to')} ${sanitizeLine(ev.url)}${tail}`) };
      }
      case 'message':
        return message(ev);
      case 'ping':
      case 'pong': {
        if (o.hidePingPong || ev.typed || ev.auto) return {};
        const arrow = ev.direction === 'in' ? p.cyan('<') : p.dim('>');
        const payload = previewControl(ev.data, p);
        const rtt = ev.rtt !== undefined ? ` ${p.dim(`(rtt ${formatMs(ev.rtt)})`)}` : '';
        return {
          out: lines(
            ev,
            `${arrow} ${p.yellow(`[${ev.event}]`)}${payload ? ` ${payload}` : ''}${rtt}`,
          ),
        };
      }
      case 'listening':
        return { out: lines(ev, `${p.green('Listening on')} ${ev.url}`) };
      case 'close':
        return {
          out: lines(ev, `${p.yellow('Disconnected:')} ${describeClose(ev.code, ev.reason, p)}`),
        };
      case 'error':
        return { err: errorLines(ev, pe) };
      case 'note':
        if (ev.level === 'warn') return { err: `${pe.yellow('warning:')} ${ev.text}\n` };
        return o.quiet ? {} : { out: lines(ev, p.dim(ev.text)) };
    }
  };
}

export function formatMs(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

const SGR = /\x1b\[[0-9;]*m/g;
function visibleLength(s: string): number {
  return s.replace(SGR, '').length;
}
