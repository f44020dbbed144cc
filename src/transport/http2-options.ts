// Pure parsing of --http2 / --http2-only (no imports that cost start-up).

import { usageError } from '../errors.js';

/** off = HTTP/1.1 only; prefer = HTTP/2, falling back to HTTP/1.1; only = HTTP/2 or fail. */
export type Http2Mode = 'off' | 'prefer' | 'only';

export function parseHttp2Option(flags: {
  http2?: boolean;
  http2Only?: boolean;
  protocolVersion?: string;
}): Http2Mode {
  const mode: Http2Mode =
    flags.http2Only === true ? 'only' : flags.http2 === true ? 'prefer' : 'off';
  // RFC 8441 carries version 13 only (its extended CONNECT replaces the HyBi-08 handshake).
  if (mode !== 'off' && flags.protocolVersion === '8') {
    throw usageError(
      `-p 8 cannot be used with ${mode === 'only' ? '--http2-only' : '--http2'}`,
      'WebSockets over HTTP/2 (RFC 8441) are version 13',
    );
  }
  return mode;
}
