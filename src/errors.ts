// Typed errors with stable kinds, and the one table that maps how a run ended to an exit code.

import { isNormalClose } from './close-codes.js';

/**
 * 'application': the application protocol said no (a Socket.IO connect_error, a GraphQL error,
 * a JSON-RPC error response, a STOMP ERROR, a refused CONNACK): exit 5.
 * 'unmet': something the run waited for did not come (an --await step): exit 4.
 * 'closed': the server ended the application session (a Socket.IO namespace disconnect): exit 3.
 */
export type ErrorKind =
  | 'usage'
  | 'connect'
  | 'protocol'
  | 'io'
  | 'application'
  | 'unmet'
  | 'closed';

/** An error meant for the user: one `error:` line, an optional `hint:` line, an exit code. */
export class WsxError extends Error {
  readonly kind: ErrorKind;
  /** A stable machine code, e.g. ECONNREFUSED, HANDSHAKE_TIMEOUT, HTTP_STATUS. */
  readonly code: string | undefined;
  readonly hint: string | undefined;
  /** Extra lines shown after the error (e.g. the body of a rejected handshake). */
  readonly details: string[];

  constructor(
    kind: ErrorKind,
    message: string,
    opts: { code?: string; hint?: string; details?: string[] } = {},
  ) {
    super(message);
    this.name = 'WsxError';
    this.kind = kind;
    this.code = opts.code;
    this.hint = opts.hint;
    this.details = opts.details ?? [];
  }
}

export const usageError = (message: string, hint?: string): WsxError =>
  new WsxError('usage', message, { code: 'USAGE', hint });

/** How a run ended; exitCodeFor turns it into the process exit code. */
export type Ending =
  | { kind: 'done' } // input finished, user quit, --count/--expect satisfied, --timeout alone
  | { kind: 'closed'; code: number; reason: string; closeFrameReceived: boolean }
  | { kind: 'error'; error: WsxError }
  | { kind: 'unmet'; what: string } // --expect / --count not satisfied
  | { kind: 'signal'; signal: 'SIGINT' | 'SIGTERM' };

export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  serverClose: 3,
  unmet: 4,
  application: 5,
  sigint: 130,
  sigterm: 143,
} as const;

/** SPEC §7 in one place. */
export function exitCodeFor(ending: Ending): number {
  switch (ending.kind) {
    case 'done':
      return EXIT.ok;
    case 'closed':
      if (!ending.closeFrameReceived) return EXIT.failure;
      return isNormalClose(ending.code) ? EXIT.ok : EXIT.serverClose;
    case 'error':
      return ending.error.kind === 'usage'
        ? EXIT.usage
        : ending.error.kind === 'application'
          ? EXIT.application
          : ending.error.kind === 'unmet'
            ? EXIT.unmet
            : ending.error.kind === 'closed'
              ? EXIT.serverClose
              : EXIT.failure;
    case 'unmet':
      return EXIT.unmet;
    case 'signal':
      return ending.signal === 'SIGINT' ? EXIT.sigint : EXIT.sigterm;
  }
}

/** Turn anything thrown into a WsxError without losing a useful message. */
export function toWsxError(err: unknown, kind: ErrorKind = 'io'): WsxError {
  if (err instanceof WsxError) return err;
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return new WsxError(kind, err.message, { code: typeof code === 'string' ? code : undefined });
  }
  return new WsxError(kind, String(err));
}

/** Why a file could not be read, in words: "no such file", "permission denied", … */
export function describeFileError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return err instanceof Error ? err.message : String(err);
}
