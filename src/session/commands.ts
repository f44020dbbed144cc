// The REPL's slash commands: one table with usage and help, validated arguments, no throws
// into the socket library (SPEC §5).

import { readFile } from 'node:fs/promises';
import {
  isSendableCloseCode,
  MAX_CLOSE_REASON_BYTES,
  MAX_CONTROL_PAYLOAD_BYTES,
} from '../close-codes.js';
import { usageError } from '../errors.js';
import type { Peer } from '../peer.js';
import { maskHeaderValue, maskUrl } from '../render/mask.js';
import { formatMs } from '../render/pretty.js';
import { sanitizeLine } from '../render/sanitize.js';

export interface CommandContext {
  /** The open connection, or undefined between connections. */
  peer: Peer | undefined;
  send(data: Buffer | string, binary: boolean): void;
  ping(data: Buffer): void;
  pong(data: Buffer): void;
  close(code: number, reason: string): void;
  reconnect(): Promise<void>;
  quit(): void;
  print(text: string): void;
  now(): number;
}

export interface Command {
  name: string;
  aliases?: string[];
  usage: string;
  help: string;
  /** Needs an open connection. */
  needsPeer: boolean;
  run(args: string, ctx: CommandContext): void | Promise<void>;
}

function controlPayload(args: string, what: string): Buffer {
  const data = Buffer.from(args, 'utf8');
  if (data.length > MAX_CONTROL_PAYLOAD_BYTES) {
    throw usageError(
      `${what} payload is ${data.length} bytes; at most ${MAX_CONTROL_PAYLOAD_BYTES} are allowed`,
    );
  }
  return data;
}

export function parseHex(text: string): Buffer {
  const clean = text.replace(/\s+/g, '').replace(/^0x/i, '');
  if (clean === '') throw usageError('/binary needs hex bytes, e.g. /binary 48656c6c6f');
  if (!/^[0-9a-f]*$/i.test(clean)) {
    const bad = /[^0-9a-f]/i.exec(clean)?.[0] ?? '';
    throw usageError(`not hex: '${sanitizeLine(bad)}' in /binary`);
  }
  if (clean.length % 2 !== 0) throw usageError('odd number of hex digits in /binary');
  return Buffer.from(clean, 'hex');
}

export function parseBase64(text: string): Buffer {
  const clean = text.replace(/\s+/g, '');
  if (clean === '') throw usageError('/base64 needs data, e.g. /base64 aGVsbG8=');
  const std = clean.replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(std) || std.replace(/=+$/, '').length % 4 === 1) {
    throw usageError('invalid base64 in /base64');
  }
  return Buffer.from(std, 'base64');
}

export function parseClose(args: string): { code: number; reason: string } {
  const trimmed = args.trim();
  if (trimmed === '') return { code: 1000, reason: '' };
  const m = /^(\S+)(?:\s+([\s\S]*))?$/.exec(trimmed);
  const codeText = m?.[1] ?? '';
  const reason = m?.[2] ?? '';
  const code = Number(codeText);
  if (!/^\d+$/.test(codeText) || !isSendableCloseCode(code)) {
    throw usageError(
      `cannot send close code '${sanitizeLine(codeText)}'`,
      'use 1000, 1001-1003, 1007-1014 or 3000-4999',
    );
  }
  const bytes = Buffer.byteLength(reason);
  if (bytes > MAX_CLOSE_REASON_BYTES) {
    throw usageError(
      `close reason is ${bytes} bytes; at most ${MAX_CLOSE_REASON_BYTES} are allowed`,
    );
  }
  return { code, reason };
}

function formatUptime(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0
    ? `${h}h ${m}m ${s % 60}s`
    : m > 0
      ? `${m}m ${s % 60}s`
      : `${(ms / 1000).toFixed(1)}s`;
}

export const COMMANDS: Command[] = [
  {
    name: 'ping',
    usage: '/ping [text]',
    help: 'send a ping (payload ≤ 125 bytes); the pong shows the round-trip time',
    needsPeer: true,
    run: (args, ctx) => ctx.ping(controlPayload(args, 'ping')),
  },
  {
    name: 'pong',
    usage: '/pong [text]',
    help: 'send an unsolicited pong (payload ≤ 125 bytes)',
    needsPeer: true,
    run: (args, ctx) => ctx.pong(controlPayload(args, 'pong')),
  },
  {
    name: 'close',
    usage: '/close [code [reason]]',
    help: 'start the close handshake (default 1000; reason ≤ 123 bytes)',
    needsPeer: true,
    run: (args, ctx) => {
      const { code, reason } = parseClose(args);
      ctx.close(code, reason);
    },
  },
  {
    name: 'binary',
    usage: '/binary <hex>',
    help: 'send a binary message given as hex bytes (spaces allowed)',
    needsPeer: true,
    run: (args, ctx) => ctx.send(parseHex(args), true),
  },
  {
    name: 'base64',
    usage: '/base64 <data>',
    help: 'send a binary message given as base64',
    needsPeer: true,
    run: (args, ctx) => ctx.send(parseBase64(args), true),
  },
  {
    name: 'file',
    usage: '/file <path>',
    help: "send a file's bytes as one binary message",
    needsPeer: true,
    run: async (args, ctx) => {
      const path = args.trim();
      if (path === '') throw usageError('/file needs a path');
      let data: Buffer;
      try {
        data = await readFile(path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const why =
          code === 'ENOENT'
            ? 'no such file'
            : code === 'EISDIR'
              ? 'is a directory'
              : code === 'EACCES'
                ? 'permission denied'
                : (err as Error).message;
        throw usageError(`cannot read '${sanitizeLine(path)}': ${why}`);
      }
      ctx.send(data, true);
      ctx.print(`sent ${data.length} B from ${sanitizeLine(path)}`);
    },
  },
  {
    name: 'status',
    usage: '/status',
    help: 'URL, subprotocol, extensions, uptime, messages and bytes in/out, last RTT',
    needsPeer: true,
    run: (_args, ctx) => {
      const peer = ctx.peer as Peer;
      const s = peer.stats;
      const lines = [
        `url          ${sanitizeLine(maskUrl(peer.info.url))}`,
        `subprotocol  ${peer.info.protocol ? sanitizeLine(peer.info.protocol) : '(none)'}`,
        `extensions   ${peer.info.extensions ? sanitizeLine(peer.info.extensions) : '(none)'}`,
        `uptime       ${formatUptime(ctx.now() - s.openedAt)}`,
        `messages     ${s.messagesIn} in, ${s.messagesOut} out`,
        `bytes        ${s.bytesIn} in, ${s.bytesOut} out`,
        `last rtt     ${s.lastRtt === undefined ? '(no pong yet: try /ping)' : formatMs(s.lastRtt)}`,
      ];
      ctx.print(lines.join('\n'));
    },
  },
  {
    name: 'headers',
    usage: '/headers',
    help: 'the handshake request and response headers (secrets masked)',
    needsPeer: true,
    run: (_args, ctx) => {
      const { request, response } = (ctx.peer as Peer).info;
      const out: string[] = [];
      if (request) {
        out.push(`${request.method} ${sanitizeLine(request.path)} HTTP/1.1`);
        for (const [k, v] of request.headers)
          out.push(`${k}: ${sanitizeLine(maskHeaderValue(k, v))}`);
      }
      if (response) {
        out.push('', `HTTP/1.1 ${response.status} ${sanitizeLine(response.statusText)}`);
        for (const [k, v] of response.headers)
          out.push(`${sanitizeLine(k)}: ${sanitizeLine(maskHeaderValue(k, v))}`);
      }
      ctx.print(out.length ? out.join('\n') : '(no handshake recorded)');
    },
  },
  {
    name: 'reconnect',
    usage: '/reconnect',
    help: 'close and open the connection again with the same options',
    needsPeer: false,
    run: (_args, ctx) => ctx.reconnect(),
  },
  {
    name: 'help',
    usage: '/help',
    help: 'this list',
    needsPeer: false,
    run: (_args, ctx) => ctx.print(helpText()),
  },
  {
    name: 'quit',
    aliases: ['exit'],
    usage: '/quit',
    help: 'close with 1000 and exit (also Ctrl-D, or Ctrl-C on an empty line)',
    needsPeer: false,
    run: (_args, ctx) => ctx.quit(),
  },
];

export function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.usage.length)) + 2;
  const rows = COMMANDS.map((c) => {
    const alias = c.aliases?.length ? ` (${c.aliases.map((a) => `/${a}`).join(', ')})` : '';
    return `  ${c.usage.padEnd(width)}${c.help}${alias}`;
  });
  return [
    'Commands:',
    ...rows,
    '',
    'Lines that do not start with / are sent as text; //x sends /x.',
    'A line starting { or [ continues until the JSON is complete. Ctrl-C clears the line.',
  ].join('\n');
}

export function findCommand(name: string): Command | undefined {
  const n = name.toLowerCase();
  return COMMANDS.find((c) => c.name === n || c.aliases?.includes(n));
}

/** Tab completion for command names. */
export function completeCommand(line: string): [string[], string] {
  if (!line.startsWith('/') || line.includes(' ')) return [[], line];
  const names = COMMANDS.flatMap((c) => [c.name, ...(c.aliases ?? [])]).map((n) => `/${n}`);
  const hits = names.filter((n) => n.startsWith(line.toLowerCase()));
  return [hits.length ? hits.map((h) => `${h} `) : [], line];
}

/** Split `/name rest` → the command and its argument text. */
export function parseSlash(line: string): { name: string; args: string } {
  const m = /^\/(\S*)\s?([\s\S]*)$/.exec(line);
  return { name: m?.[1] ?? '', args: m?.[2] ?? '' };
}
