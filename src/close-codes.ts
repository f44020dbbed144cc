// Close codes: registered names and the validity rules a sender must follow (RFC 6455 §7.4).

const NAMES: Readonly<Record<number, string>> = {
  1000: 'Normal Closure',
  1001: 'Going Away',
  1002: 'Protocol Error',
  1003: 'Unsupported Data',
  1004: 'Reserved',
  1005: 'No Status Received',
  1006: 'Abnormal Closure',
  1007: 'Invalid Frame Payload Data',
  1008: 'Policy Violation',
  1009: 'Message Too Big',
  1010: 'Mandatory Extension',
  1011: 'Internal Error',
  1012: 'Service Restart',
  1013: 'Try Again Later',
  1014: 'Bad Gateway',
  1015: 'TLS Handshake',
};

/** The registered name of a close code, or '' when it has none. */
export function closeCodeName(code: number): string {
  return NAMES[code] ?? '';
}

/** A close the user asked for counts as a success: 1000, 1001 or 1005 (no status). */
export function isNormalClose(code: number): boolean {
  return code === 1000 || code === 1001 || code === 1005;
}

/**
 * Codes an endpoint may put in a close frame: the same rule as ws's
 * lib/validation.js, so a code that passes here never makes ws.close() throw.
 */
export function isSendableCloseCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999)
  );
}

/** The largest close reason in bytes: 125 bytes of payload minus the 2-byte code. */
export const MAX_CLOSE_REASON_BYTES = 123;

/** Largest control-frame payload (ping, pong). */
export const MAX_CONTROL_PAYLOAD_BYTES = 125;

/** Codes after which --reconnect tries again (SPEC §10): the server may come back. */
export function isRetryableClose(code: number): boolean {
  return code === 1006 || code === 1001 || (code >= 1011 && code <= 1014);
}
