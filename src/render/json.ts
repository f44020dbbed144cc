// JSON renderer: one object per line on stdout for every event (schema in the README).

import { isUtf8 } from 'node:buffer';
import { closeCodeName } from '../close-codes.js';
import type { WsxEvent } from '../events.js';
import type { OutputOptions } from '../options.js';
import { build, eachSlice, SLICE } from './chunks.js';
import type { Rendered, Renderer } from './renderer.js';
import { errorLines } from './renderer.js';
import { escapeJsonText } from './sanitize.js';
import type { Palette } from './text.js';

/** JSON.stringify that cannot throw on a layer's values (BigInt as a decimal string). */
function stringify(value: unknown): string {
  try {
    // Without a replacer first: a replacer costs a call per value, on every event.
    return JSON.stringify(value);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  }
}

/** JSON text escaped (SPEC §17); a long one slice by slice, so never one giant replace(). */
function escaped(json: string): string | Buffer {
  if (json.length <= SLICE) return `${escapeJsonText(json)}\n`;
  return build((out) => {
    eachSlice(json, (s) => out.add(escapeJsonText(s)));
    out.add('\n');
  });
}

/** One event as a JSON line, DEL, C1 and bidi/invisible controls as \u escapes (SPEC §17). */
function line(obj: Record<string, unknown>): string {
  return `${escapeJsonText(stringify(obj))}\n`;
}

/** A message's fields without what layers added, and a note that they could not be written. */
function withoutValues(head: Record<string, unknown>): Record<string, unknown> {
  const { dialect: _d, decoded: _v, filtered: _f, ...rest } = head;
  return { ...rest, note: 'the decoded value is too big to write as JSON' };
}

/**
 * The event with its payload last: `data` when the payload is UTF-8 (and not binary), else
 * `base64`: never lossy. A large payload is encoded slice by slice (chunks.ts build), so a 100 MiB
 * message never becomes one giant string (V8's limit; a \x01 grows 6× as \u0001). A layer's
 * value that cannot be JSON (circular, or too big for one string) still lets the event be written.
 */
function withPayload(
  head: Record<string, unknown>,
  data: Buffer,
  binary: boolean,
): string | Buffer {
  const text = !binary && isUtf8(data);
  if (data.length <= SLICE) {
    // The common case: one object, one stringify.
    const key = text ? 'data' : 'base64';
    const value = text ? data.toString('utf8') : data.toString('base64');
    head[key] = value;
    try {
      return escaped(stringify(head));
    } catch {
      const safe = withoutValues(head);
      delete safe[key];
      safe[key] = value;
      return escaped(stringify(safe));
    }
  }
  let h: string;
  try {
    h = stringify(head);
  } catch {
    h = stringify(withoutValues(head));
  }
  const str = text ? data.toString('utf8') : '';
  return build((out) => {
    eachSlice(h.slice(0, -1), (s) => out.add(escapeJsonText(s)));
    out.add(`,"${text ? 'data' : 'base64'}":"`);
    if (text) {
      eachSlice(str, (s) => out.add(escapeJsonText(JSON.stringify(s).slice(1, -1))));
    } else {
      // Base64 in whole 3-byte groups per slice, so the pieces join into one valid encoding.
      const step = 3 * SLICE;
      for (let off = 0; off < data.length; off += step) {
        out.add(data.subarray(off, off + step).toString('base64'));
      }
    }
    out.add('"}\n');
  });
}

/** Add the message event's fields from the layers' MessageView (README: JSON event schema). */
function addViewFields(f: Record<string, unknown>, ev: Extract<WsxEvent, { event: 'message' }>) {
  const v = ev.view;
  if (ev.direction === 'out' && (ev.auto === true || v?.auto === true)) f.auto = true;
  if (v === undefined) return;
  if (v.control === true) f.control = true;
  if (v.heartbeat === true) f.heartbeat = true;
  if (v.dialect !== undefined) f.dialect = v.dialect;
  if (v.decoded !== undefined) {
    f.decoded = v.decoded.value ?? null;
    f.codec = v.decoded.codec;
  }
  if (v.filtered !== undefined) f.filtered = v.filtered.map((x) => x ?? null);
  if (v.note !== undefined && v.note !== '') f.note = v.note;
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
      case 'message': {
        const head: Record<string, unknown> = { time, event: 'message' };
        if (ev.client !== undefined) head.client = ev.client;
        head.direction = ev.direction;
        head.type = ev.binary ? 'binary' : 'text';
        head.size = ev.data.length;
        addViewFields(head, ev);
        return { out: withPayload(head, ev.data, ev.binary) };
      }
      case 'ping':
      case 'pong':
        obj = {
          time,
          event: ev.event,
          ...client,
          direction: ev.direction,
          size: ev.data.length,
          ...(isUtf8(ev.data)
            ? { data: ev.data.toString('utf8') }
            : { base64: ev.data.toString('base64') }),
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
          out: line({ time, event: 'error', ...client, message: ev.message, code: ev.code ?? '' }),
          err: errorLines(ev, pe),
        };
      case 'note':
        return ev.level === 'warn' && !o.quiet
          ? { err: `${pe.yellow('warning:')} ${ev.text}\n` }
          : {};
    }
    return { out: line(obj) };
  };
}
