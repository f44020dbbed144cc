// JSON renderer: one object per line on stdout for every event (schema in the README).

import { isUtf8 } from 'node:buffer';
import { closeCodeName } from '../close-codes.js';
import type { OutputOptions } from '../options.js';
import type { Rendered, Renderer } from './renderer.js';
import { errorLines } from './renderer.js';
import type { Palette } from './text.js';

/** `data` when the payload is UTF-8 (and not binary), else `base64`: never lossy. */
function payload(data: Buffer, binary: boolean): { data: string } | { base64: string } {
  if (!binary && isUtf8(data)) return { data: data.toString('utf8') };
  return { base64: data.toString('base64') };
}

export function createJsonRenderer(o: OutputOptions, pe: Palette): Renderer {
  return (ev): Rendered => {
    const time = new Date(ev.time).toISOString();
    const client = ev.client === undefined ? {} : { client: ev.client };
    let obj: Record<string, unknown>;
    switch (ev.event) {
      case 'open':
        obj = {
          time,
          event: 'open',
          ...client,
          url: ev.url,
          protocol: ev.protocol,
          extensions: ev.extensions,
          ...(ev.remote === undefined ? {} : { remote: ev.remote }),
        };
        break;
      case 'listening':
        return { err: `Listening on ${ev.url}\n` };
      case 'message':
        obj = {
          time,
          event: 'message',
          ...client,
          direction: ev.direction,
          type: ev.binary ? 'binary' : 'text',
          size: ev.data.length,
          ...payload(ev.data, ev.binary),
        };
        break;
      case 'ping':
      case 'pong':
        obj = {
          time,
          event: ev.event,
          ...client,
          direction: ev.direction,
          size: ev.data.length,
          ...payload(ev.data, false),
          ...(ev.rtt === undefined ? {} : { rtt: Math.round(ev.rtt * 1000) / 1000 }),
        };
        break;
      case 'close':
        obj = {
          time,
          event: 'close',
          ...client,
          code: ev.code,
          name: closeCodeName(ev.code),
          reason: ev.reason,
          clean: ev.clean,
        };
        break;
      case 'error':
        return {
          out: `${JSON.stringify({ time, event: 'error', ...client, message: ev.message, code: ev.code ?? '' })}\n`,
          err: errorLines(ev, pe),
        };
      case 'note':
        return ev.level === 'warn' && !o.quiet
          ? { err: `${pe.yellow('warning:')} ${ev.text}\n` }
          : {};
    }
    return { out: `${JSON.stringify(obj)}\n` };
  };
}
