// Pure text for /status and /headers.

import type { MessagePeer as Peer } from '../peer.js';
import { maskHeaderValue, maskUrl } from '../render/mask.js';
import { formatMs } from '../render/pretty.js';
import { sanitizeLine } from '../render/sanitize.js';

/** RFC 8441 streams open with an extended CONNECT; HTTP/1.1 upgrades with a GET. */
export function httpVersion(method: string | undefined): string {
  return method === 'CONNECT' ? 'HTTP/2' : 'HTTP/1.1';
}

export function formatUptime(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0
    ? `${h}h ${m}m ${s % 60}s`
    : m > 0
      ? `${m}m ${s % 60}s`
      : `${(ms / 1000).toFixed(1)}s`;
}

export function describePeerStatus(peer: Peer, now: number): string {
  const s = peer.stats;
  return [
    `url          ${sanitizeLine(maskUrl(peer.info.url))}`,
    `subprotocol  ${peer.info.protocol ? sanitizeLine(peer.info.protocol) : '(none)'}`,
    `extensions   ${peer.info.extensions ? sanitizeLine(peer.info.extensions) : '(none)'}`,
    `uptime       ${formatUptime(now - s.openedAt)}`,
    `messages     ${s.messagesIn} in, ${s.messagesOut} out`,
    `bytes        ${s.bytesIn} in, ${s.bytesOut} out`,
    `last rtt     ${s.lastRtt === undefined ? '(no pong yet: try /ping)' : formatMs(s.lastRtt)}`,
  ].join('\n');
}

export function describeHeaders(peer: Peer): string {
  const { request, response } = peer.info;
  const out: string[] = [];
  if (request) {
    out.push(`${request.method} ${sanitizeLine(request.path)} ${httpVersion(request.method)}`);
    for (const [k, v] of request.headers)
      out.push(`${sanitizeLine(k)}: ${sanitizeLine(maskHeaderValue(k, v))}`);
  }
  if (response) {
    out.push(
      '',
      `${httpVersion(request?.method)} ${response.status} ${sanitizeLine(response.statusText)}`,
    );
    for (const [k, v] of response.headers)
      out.push(`${sanitizeLine(k)}: ${sanitizeLine(maskHeaderValue(k, v))}`);
  }
  return out.length ? out.join('\n') : '(no handshake recorded)';
}
