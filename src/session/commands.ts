// The REPL's slash commands: one table with usage and help, validated arguments, no throws
// into the socket library (SPEC §5).

import {
  isSendableCloseCode,
  MAX_CLOSE_REASON_BYTES,
  MAX_CONTROL_PAYLOAD_BYTES,
} from '../close-codes.js';
import { describeFileError, usageError, WsxError } from '../errors.js';
import type { MessagePeer } from '../peer.js';
import { sanitizeLine } from '../render/sanitize.js';
import type { Driver } from './driver.js';

export interface CommandContext {
  driver: Driver;
  print(text: string): void;
  now(): number;
  /**
   * The layer called `name` on the current connection (client mode), for a layer's own commands
   * (/emit, /sub, …); undefined when not connected or the layer is not in use.
   */
  layer<T extends MessagePeer>(name: string): T | undefined;
  /** --max-message-size: the largest file /file sends. */
  maxMessageSize?: number;
  /** The run's layer commands (a dialect's /emit, /sub, …), besides the built-in table. */
  commands?: readonly Command[];
}

/** /file's limit when the session does not say (the --max-message-size default). */
const DEFAULT_MAX_FILE = 100 * 1024 * 1024;

export interface Command {
  name: string;
  aliases?: string[];
  usage: string;
  help: string;
  /** Needs an open connection (client) or at least one connected client (listen). */
  needsPeer: boolean;
  /** Only in this mode (default: both). */
  only?: Driver['kind'];
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
  // The reason is the rest of the line: spaces inside and at its end are kept (SPEC §17).
  const trimmed = args.replace(/^\s+/, '');
  if (trimmed.trim() === '') return { code: 1000, reason: '' };
  const m = /^(\S+)(?:\s+([\s\S]*))?$/.exec(trimmed);
  const codeText = m?.[1] ?? '';
  const rest = m?.[2] ?? '';
  const quoted = /^"([\s\S]*)"$/.exec(rest);
  const reason = quoted ? (quoted[1] ?? '') : rest;
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

function parseClientId(text: string | undefined, command: string): number {
  const id = Number(text);
  if (text === undefined || !/^\d+$/.test(text) || !Number.isSafeInteger(id)) {
    throw usageError(`${command} needs a client id (see /clients)`);
  }
  return id;
}

export const COMMANDS: Command[] = [
  {
    name: 'ping',
    usage: '/ping [text]',
    help: 'send a ping (payload ≤ 125 bytes); the pong shows the round-trip time',
    needsPeer: true,
    run: (args, ctx) => ctx.driver.ping(controlPayload(args, 'ping')),
  },
  {
    name: 'pong',
    usage: '/pong [text]',
    help: 'send an unsolicited pong (payload ≤ 125 bytes)',
    needsPeer: true,
    run: (args, ctx) => ctx.driver.pong(controlPayload(args, 'pong')),
  },
  {
    name: 'close',
    usage: '/close [code [reason]]',
    help: 'start the close handshake (default 1000; reason ≤ 123 bytes); listen: with every client',
    needsPeer: true,
    run: (args, ctx) => {
      const { code, reason } = parseClose(args);
      ctx.driver.closeConnection(code, reason);
    },
  },
  {
    name: 'binary',
    usage: '/binary <hex>',
    help: 'send a binary message given as hex bytes (spaces allowed)',
    needsPeer: true,
    run: (args, ctx) => ctx.driver.send(parseHex(args), true, true),
  },
  {
    name: 'base64',
    usage: '/base64 <data>',
    help: 'send a binary message given as base64',
    needsPeer: true,
    run: (args, ctx) => ctx.driver.send(parseBase64(args), true, true),
  },
  {
    name: 'file',
    usage: '/file <path>',
    help: "send a file's bytes as one binary message",
    needsPeer: true,
    run: async (args, ctx) => {
      const path = args.trim();
      if (path === '') throw usageError('/file needs a path');
      const limit = ctx.maxMessageSize ?? DEFAULT_MAX_FILE;
      const shown = sanitizeLine(path);
      // Loaded here: every run loads this table, few send a file.
      const { readFile, stat } = await import('node:fs/promises');
      let data: Buffer;
      try {
        // Look before reading: /dev/zero or a FIFO never ends, a directory is no message.
        const st = await stat(path);
        if (st.isDirectory()) throw usageError(`cannot send '${shown}': it is a directory`);
        if (!st.isFile()) throw usageError(`cannot send '${shown}': not a regular file`);
        if (st.size > limit) {
          throw usageError(
            `cannot send '${shown}': ${st.size} bytes is more than --max-message-size (${limit})`,
          );
        }
        data = await readFile(path);
      } catch (err) {
        if (err instanceof WsxError) throw err;
        throw usageError(`cannot read '${shown}': ${describeFileError(err)}`);
      }
      ctx.driver.send(data, true, true);
      ctx.print(`sent ${data.length} B from ${sanitizeLine(path)}`);
    },
  },
  {
    name: 'status',
    usage: '/status',
    help: 'URL, subprotocol, extensions, uptime, messages and bytes in/out, last RTT',
    needsPeer: false,
    run: (_args, ctx) => ctx.print(ctx.driver.status(ctx.now())),
  },
  {
    name: 'headers',
    usage: '/headers',
    help: 'the handshake request and response headers (secrets masked)',
    needsPeer: true,
    only: 'client',
    run: (_args, ctx) => ctx.print(ctx.driver.headers()),
  },
  {
    name: 'reconnect',
    usage: '/reconnect',
    help: 'close and open the connection again with the same options',
    needsPeer: false,
    only: 'client',
    run: (_args, ctx) => ctx.driver.reconnect?.(),
  },
  {
    name: 'clients',
    usage: '/clients',
    help: 'list the connected clients',
    needsPeer: false,
    only: 'listen',
    run: (_args, ctx) => ctx.print(ctx.driver.clients?.() ?? ''),
  },
  {
    name: 'to',
    usage: '/to <id> <text>',
    help: 'send a text message to one client',
    needsPeer: true,
    only: 'listen',
    run: (args, ctx) => {
      const m = /^(\S+)\s?([\s\S]*)$/.exec(args.trim());
      ctx.driver.sendTo?.(parseClientId(m?.[1], '/to'), m?.[2] ?? '');
    },
  },
  {
    name: 'kick',
    usage: '/kick <id> [code [reason]]',
    help: 'close one client (default 1000)',
    needsPeer: true,
    only: 'listen',
    run: (args, ctx) => {
      const m = /^(\S+)\s?([\s\S]*)$/.exec(args.trim());
      const id = parseClientId(m?.[1], '/kick');
      const { code, reason } = parseClose(m?.[2] ?? '');
      ctx.driver.kick?.(id, code, reason);
    },
  },
  {
    name: 'help',
    usage: '/help',
    help: 'this list',
    needsPeer: false,
    run: (_args, ctx) => ctx.print(helpText(ctx.driver.kind, ctx.commands)),
  },
  {
    name: 'quit',
    aliases: ['exit'],
    usage: '/quit',
    help: 'close with 1000 and exit (also Ctrl-D, or Ctrl-C on an empty line)',
    needsPeer: false,
    run: (_args, ctx) => ctx.driver.quit(),
  },
];

/** The built-in table plus the run's layer commands (`extra`), for one kind of driver. */
const commandsFor = (kind: Driver['kind'], extra: readonly Command[]) =>
  [...COMMANDS, ...extra.filter((c) => !COMMANDS.some((x) => x.name === c.name))].filter(
    (c) => c.only === undefined || c.only === kind,
  );

export function helpText(kind: Driver['kind'], extra: readonly Command[] = []): string {
  const list = commandsFor(kind, extra);
  const width = Math.max(...list.map((c) => c.usage.length)) + 2;
  const rows = list.map((c) => {
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

export function findCommand(
  name: string,
  kind: Driver['kind'],
  extra: readonly Command[] = [],
): Command | undefined {
  const n = name.toLowerCase();
  return commandsFor(kind, extra).find((c) => c.name === n || c.aliases?.includes(n));
}

/** Tab completion for command names. */
export function completeCommand(
  line: string,
  kind: Driver['kind'],
  extra: readonly Command[] = [],
): [string[], string] {
  if (!line.startsWith('/') || line.includes(' ')) return [[], line];
  const names = commandsFor(kind, extra)
    .flatMap((c) => [c.name, ...(c.aliases ?? [])])
    .map((n) => `/${n}`);
  const hits = names.filter((n) => n.startsWith(line.toLowerCase()));
  return [hits.length ? hits.map((h) => `${h} `) : [], line];
}

/** Split `/name rest` → the command and its argument text. */
export function parseSlash(line: string): { name: string; args: string } {
  const m = /^\/(\S*)\s?([\s\S]*)$/.exec(line);
  return { name: m?.[1] ?? '', args: m?.[2] ?? '' };
}
