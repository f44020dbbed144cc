// Raw renderer: for pipes. stdout carries payloads only; errors and abnormal endings on stderr.

import { isNormalClose } from '../close-codes.js';
import type { OutputOptions } from '../options.js';
import { build } from './chunks.js';
import type { Rendered, Renderer } from './renderer.js';
import { errorLines } from './renderer.js';
import { sanitizeInto } from './sanitize.js';
import { describeClose, type Palette, toJson } from './text.js';

const NL = Buffer.from('\n');

/**
 * `toTerminal`: stdout is a terminal (raw was forced with --output raw). Then text is escaped
 * and binary shown as hex, because terminal safety outranks byte-exactness on a screen.
 */
/** Escaped for a terminal, slice by slice (a huge message never becomes one huge string). */
function escaped(text: string): string | Buffer {
  return build((out) => sanitizeInto(out, text, (s) => s));
}

export function createRawRenderer(o: OutputOptions, toTerminal: boolean, pe: Palette): Renderer {
  return (ev): Rendered => {
    switch (ev.event) {
      case 'message': {
        if (ev.direction !== 'in') return {};
        const view = ev.view;
        // Heartbeats, acks, receipts: not application messages, so not payloads; CDP events
        // without --events and error responses (on stderr) are messages raw output leaves out.
        if (view?.hidden || view?.control || view?.rawHidden) return {};
        if (view?.filtered) {
          // One line of compact JSON per value, as `jq -c` (SPEC §17); `empty` writes nothing.
          if (view.filtered.length === 0) return {};
          const text = `${view.filtered.map(toJson).join('\n')}\n`;
          return { out: toTerminal ? escaped(text) : text };
        }
        if (view?.text !== undefined) {
          // A dialect's decoded line, in the form input accepts (`wsx … | wsx …` round-trips).
          return { out: toTerminal ? escaped(`${view.text}\n`) : `${view.text}\n` };
        }
        if (!ev.binary) {
          if (toTerminal) return { out: escaped(`${ev.data.toString('utf8')}\n`) };
          return { out: Buffer.concat([ev.data, NL]) };
        }
        if (o.binaryAs === 'hex' || (o.binaryAs === 'raw' && toTerminal)) {
          return { out: `${ev.data.toString('hex')}\n` };
        }
        if (o.binaryAs === 'base64') return { out: `${ev.data.toString('base64')}\n` };
        return { out: ev.data };
      }
      case 'open':
        if (!o.verbose) return {};
        return {
          err:
            ev.remote !== undefined
              ? `#${ev.client} connected from ${ev.remote} ${ev.url}\n`
              : `Connected to ${ev.url}\n`,
        };
      case 'listening':
        return { err: `Listening on ${ev.url}\n` };
      case 'close':
        if (ev.clean && isNormalClose(ev.code) && !o.verbose) return {};
        return {
          err: `${ev.client === undefined ? '' : `#${ev.client} `}Disconnected: ${describeClose(ev.code, ev.reason, pe)}\n`,
        };
      case 'error':
        return { err: errorLines(ev, pe) };
      case 'note':
        if (ev.level === 'warn' && !o.quiet)
          return { err: `${pe.yellow('warning:')} ${ev.text}\n` };
        return {};
      default:
        return {};
    }
  };
}
