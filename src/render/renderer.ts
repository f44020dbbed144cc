// The renderer contract and the factory that picks one from the output options.

import type { WsxEvent } from '../events.js';
import type { OutputOptions } from '../options.js';
import { createJsonRenderer } from './json.js';
import { createPrettyRenderer } from './pretty.js';
import { createRawRenderer } from './raw.js';
import { type Palette, PLAIN } from './text.js';

/** What one event prints: bytes for stdout, text for stderr. Either may be absent. */
export interface Rendered {
  out?: string | Buffer;
  err?: string;
}

export type Renderer = (event: WsxEvent) => Rendered;

export interface RenderContext {
  /** stdout is a terminal: raw mode escapes what it writes. */
  stdoutIsTTY: boolean;
  /** Prefix for listen-mode client ids. */
  paint: Palette;
  paintErr: Palette;
}

export function createRenderer(o: OutputOptions, ctx: RenderContext): Renderer {
  switch (o.format) {
    case 'pretty':
      return createPrettyRenderer(o, ctx.paint, ctx.paintErr);
    case 'raw':
      return createRawRenderer(o, ctx.stdoutIsTTY, ctx.paintErr);
    case 'json':
      return createJsonRenderer(o, ctx.paintErr);
  }
}

/**
 * The colours renderers use; identity functions when colour is off. chalk loads only when colour
 * is on: its import runs terminal detection (os, tty) that wsx does not need — it decides colour
 * itself (options.ts colorFor) — and that would cost every start-up.
 */
export async function palette(on: boolean): Promise<Palette> {
  if (!on) return PLAIN;
  const { Chalk } = await import('chalk');
  // Level 1 (16 colours) is all wsx uses.
  const c = new Chalk({ level: 1 });
  return {
    dim: c.dim,
    red: c.red,
    yellow: c.yellow,
    green: c.green,
    cyan: c.cyan,
    magenta: c.magenta,
    blue: c.blue,
    bold: c.bold,
  };
}

/** `error: …` and `hint: …` lines, the form every failure takes on stderr. */
export function errorLines(
  e: { message: string; hint?: string; details?: string[] },
  p: Palette,
): string {
  let s = `${p.red('error:')} ${e.message}\n`;
  for (const d of e.details ?? []) s += `  ${d}\n`;
  if (e.hint) s += `${p.dim('hint:')} ${e.hint}\n`;
  return s;
}
