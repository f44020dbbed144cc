// Pure: the broker dialects' flags (--sub, --pub, --qos, --vhost, --client-id, --keepalive,
// --mqtt-version, and --auth read as a broker login) → BrokerOptions, validated before any
// socket is opened.

import { usageError } from '../errors.js';
import type { RawFlags } from '../options.js';

export type Qos = 0 | 1 | 2;

export interface BrokerOptions {
  /** --sub: destinations (STOMP) or topic filters (MQTT) subscribed to at start. */
  sub: string[];
  /** --pub: where typed and piped lines are sent. */
  pub: string | undefined;
  /** --qos: MQTT QoS of --sub and --pub (and the default of /sub and /pub). */
  qos: Qos;
  /** --vhost: the STOMP host header; undefined = the URL's host name. */
  vhost: string | undefined;
  /** --client-id: MQTT client identifier; undefined = wsx- and random characters. */
  clientId: string | undefined;
  /** --keepalive: MQTT keep-alive in seconds (0 = off). */
  keepaliveS: number;
  /** --mqtt-version: 4 = MQTT 3.1.1, 5 = MQTT 5. */
  mqttVersion: 4 | 5;
  /** --auth user:pass, as the broker login (STOMP login/passcode, MQTT username/password). */
  login: { user: string; pass: string | undefined } | undefined;
}

/** What these options read of the command line (RawFlags holds the one declaration). */
export type BrokerFlags = Pick<
  RawFlags,
  | 'sub'
  | 'pub'
  | 'qos'
  | 'vhost'
  | 'clientId'
  | 'keepalive'
  | 'mqttVersion'
  | 'auth'
  | 'subprotocol'
>;

const BROKER_SUBPROTOCOLS: Readonly<Record<string, string>> = {
  'v10.stomp': 'stomp',
  'v11.stomp': 'stomp',
  'v12.stomp': 'stomp',
  mqtt: 'mqtt',
};

export function parseQos(raw: string, what = '--qos'): Qos {
  const t = raw.trim();
  if (t === '0' || t === '1' || t === '2') return Number(t) as Qos;
  throw usageError(`${what} must be 0, 1 or 2, not '${raw}'`);
}

/**
 * `dialect` is --dialect as given ('auto' when absent, then the subprotocol decides): a broker
 * flag next to another explicit dialect is a usage error naming the dialect it belongs to.
 */
export function parseBrokerOptions(flags: BrokerFlags, dialect: string): BrokerOptions {
  // Without --dialect, the offered subprotocols say which broker dialect may be spoken.
  const offered = (flags.subprotocol ?? []).map((p) => BROKER_SUBPROTOCOLS[p]);
  const only = (flag: string, given: boolean, ...dialects: string[]): void => {
    if (!given) return;
    if (dialect === 'auto') {
      if (offered.some((d) => d !== undefined && dialects.includes(d))) return;
      throw usageError(
        `${flag} is for --dialect ${dialects.join(' or ')}`,
        `e.g. --dialect ${dialects[0]}`,
      );
    }
    if (!dialects.includes(dialect)) {
      throw usageError(`${flag} is for --dialect ${dialects.join(' or ')}`);
    }
  };
  const sub = flags.sub ?? [];
  only('--sub', sub.length > 0, 'stomp', 'mqtt');
  only('--pub', flags.pub !== undefined, 'stomp', 'mqtt');
  only('--qos', flags.qos !== undefined, 'mqtt');
  only('--vhost', flags.vhost !== undefined, 'stomp');
  only('--client-id', flags.clientId !== undefined, 'mqtt');
  only('--keepalive', flags.keepalive !== undefined, 'mqtt');
  only('--mqtt-version', flags.mqttVersion !== undefined, 'mqtt');
  for (const s of sub) {
    if (s.trim() === '') throw usageError('--sub needs a destination or topic');
  }
  if (flags.pub !== undefined && flags.pub.trim() === '') {
    throw usageError('--pub needs a destination or topic');
  }
  if (flags.vhost !== undefined && /[\r\n]/.test(flags.vhost)) {
    throw usageError('--vhost cannot hold a line break');
  }
  let keepaliveS = 60;
  if (flags.keepalive !== undefined) {
    const n = Number(flags.keepalive);
    if (!/^\d+$/.test(flags.keepalive.trim()) || n > 65535) {
      throw usageError(`--keepalive takes whole seconds from 0 to 65535, not '${flags.keepalive}'`);
    }
    keepaliveS = n;
  }
  let mqttVersion: 4 | 5 = 4;
  if (flags.mqttVersion !== undefined) {
    const v = flags.mqttVersion.trim();
    if (v === '3.1.1' || v === '4') mqttVersion = 4;
    else if (v === '5' || v === '5.0') mqttVersion = 5;
    else throw usageError(`--mqtt-version must be 3.1.1 or 5, not '${flags.mqttVersion}'`);
  }
  if (flags.clientId !== undefined && Buffer.byteLength(flags.clientId) > 65535) {
    throw usageError('--client-id is longer than 65535 bytes');
  }
  let login: BrokerOptions['login'];
  if (flags.auth !== undefined) {
    const colon = flags.auth.indexOf(':');
    login =
      colon === -1
        ? { user: flags.auth, pass: undefined }
        : { user: flags.auth.slice(0, colon), pass: flags.auth.slice(colon + 1) };
  }
  return {
    sub,
    pub: flags.pub,
    qos: flags.qos === undefined ? 0 : parseQos(flags.qos),
    vhost: flags.vhost,
    clientId: flags.clientId,
    keepaliveS,
    mqttVersion,
    login,
  };
}

/**
 * --auth user without a password is asked for on the terminal after the dialect prepared the
 * connection; the answer went out in the handshake's Basic Authorization header: take it from
 * there for the broker login.
 */
export function completeLogin(
  login: BrokerOptions['login'],
  info: { request?: { headers: Array<[string, string]> } },
): BrokerOptions['login'] {
  if (!login || login.pass !== undefined) return login;
  const auth = info.request?.headers.find(([k]) => k.toLowerCase() === 'authorization')?.[1];
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(auth ?? '');
  if (!m?.[1]) return login;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1 || decoded.slice(0, colon) !== login.user) return login;
  return { user: login.user, pass: decoded.slice(colon + 1) };
}
