// Pretty renderer: for people at a terminal. Everything but errors and warnings on stdout.

import type { WsxEvent } from '../events.js';
import type { OutputOptions } from '../options.js';
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
  previewText,
} from './text.js';

export function createPrettyRenderer(o: OutputOptions, p: Palette, pe: Palette): Renderer {
  const hexLimit = o.maxDisplay > 0 ? Math.min(HEXDUMP_LIMIT, o.maxDisplay) : HEXDUMP_LIMIT;

  /** Prefix the first line with the time (and client id); indent the rest to match. */
  const lines = (ev: WsxEvent, first: string, rest: string[] = []): string => {
    let prefix = '';
    if (o.timestamps) prefix += `${p.dim(clock(ev.time))} `;
    if (ev.client !== undefined) prefix += `${p.blue(`#${ev.client}`)} `;
    const pad = ' '.repeat(visibleLength(prefix));
    let s = `${prefix}${first}\n`;
    for (const r of rest) s += `${pad}${r}\n`;
    return s;
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
      case 'message': {
        if (ev.typed) return {};
        const arrow = ev.direction === 'in' ? p.cyan('<') : p.dim('>');
        if (ev.binary) {
          const head = `${arrow} ${p.magenta(`[binary ${ev.data.length} B]`)}`;
          return {
            out: lines(
              ev,
              head,
              hexdump(ev.data, hexLimit, p).map((l) => `  ${l}`),
            ),
          };
        }
        const body = previewText(ev.data, {
          max: o.maxDisplay,
          prettyJson: o.prettyJson,
          paint: p,
        });
        const [first = '', ...rest] = body.split('\n');
        return {
          out: lines(
            ev,
            `${arrow} ${first}`,
            rest.map((r) => `  ${r}`),
          ),
        };
      }
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
