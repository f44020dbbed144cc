// Pure MQTT helpers: reason-code names (3.1.1 CONNACK return codes, SUBACK failure, MQTT 5
// reason codes), topic name and filter checks (done before mqtt-packet, which throws), and the
// /pub argument parser.

import { usageError } from '../errors.js';
import { parseQos, type Qos } from './broker-options.js';

/** MQTT 3.1.1 CONNACK return codes (§3.2.2.3). */
const CONNACK_311: Record<number, string> = {
  0: 'Connection Accepted',
  1: 'unacceptable protocol version',
  2: 'identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
};

/** MQTT 5 reason codes (§2.4), shared by CONNACK, SUBACK, PUBACK, DISCONNECT… */
const REASON_5: Record<number, string> = {
  0: 'Success',
  1: 'Granted QoS 1',
  2: 'Granted QoS 2',
  4: 'Disconnect with Will Message',
  16: 'No matching subscribers',
  17: 'No subscription existed',
  24: 'Continue authentication',
  25: 'Re-authenticate',
  128: 'Unspecified error',
  129: 'Malformed Packet',
  130: 'Protocol Error',
  131: 'Implementation specific error',
  132: 'Unsupported Protocol Version',
  133: 'Client Identifier not valid',
  134: 'Bad User Name or Password',
  135: 'Not authorized',
  136: 'Server unavailable',
  137: 'Server busy',
  138: 'Banned',
  139: 'Server shutting down',
  140: 'Bad authentication method',
  141: 'Keep Alive timeout',
  142: 'Session taken over',
  143: 'Topic Filter invalid',
  144: 'Topic Name invalid',
  145: 'Packet Identifier in use',
  146: 'Packet Identifier not found',
  147: 'Receive Maximum exceeded',
  148: 'Topic Alias invalid',
  149: 'Packet too large',
  150: 'Message rate too high',
  151: 'Quota exceeded',
  152: 'Administrative action',
  153: 'Payload format invalid',
  154: 'Retain not supported',
  155: 'QoS not supported',
  156: 'Use another server',
  157: 'Server moved',
  158: 'Shared Subscriptions not supported',
  159: 'Connection rate exceeded',
  160: 'Maximum connect time',
  161: 'Subscription Identifiers not supported',
  162: 'Wildcard Subscriptions not supported',
};

const hex = (code: number) => `0x${code.toString(16).padStart(2, '0')}`;

/** "not authorized (5)" / "Not authorized (0x87)". */
export function connackReason(code: number, version: 4 | 5): string {
  if (version === 5) return `${REASON_5[code] ?? 'unknown reason'} (${hex(code)})`;
  return `${CONNACK_311[code] ?? 'unknown return code'} (${code})`;
}

/** A SUBACK entry: ≥ 0x80 is a refusal. */
export function subackReason(code: number, version: 4 | 5): string {
  if (version === 5) return `${REASON_5[code] ?? 'unknown reason'} (${hex(code)})`;
  return code === 0x80 ? 'Failure (0x80)' : `granted QoS ${code}`;
}

/** Any MQTT 5 reason code (PUBACK, DISCONNECT, …). */
export function reasonName(code: number): string {
  return `${REASON_5[code] ?? 'unknown reason'} (${hex(code)})`;
}

const hasControl = (s: string) => /[\u0000-\u001f\u007f]/.test(s);

/** A topic name to publish to: no wildcards, not empty, ≤ 65535 bytes. */
export function checkTopicName(topic: string, what: string): string {
  if (topic === '') throw usageError(`${what} needs a topic`);
  if (/[+#]/.test(topic)) {
    throw usageError(`${what}: cannot publish to '${topic}': + and # are for subscriptions`);
  }
  if (Buffer.byteLength(topic) > 65535 || hasControl(topic)) {
    throw usageError(`${what}: invalid topic '${topic}'`);
  }
  return topic;
}

/** A topic filter to subscribe to: # only last and alone in its level, + alone in its level. */
export function checkTopicFilter(filter: string, what: string): string {
  if (filter === '') throw usageError(`${what} needs a topic filter`);
  const levels = filter.split('/');
  levels.forEach((level, i) => {
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) {
      throw usageError(`${what}: invalid topic filter '${filter}': # must be the last level alone`);
    }
    if (level.includes('+') && level !== '+') {
      throw usageError(`${what}: invalid topic filter '${filter}': + must be a level alone`);
    }
  });
  if (Buffer.byteLength(filter) > 65535 || hasControl(filter)) {
    throw usageError(`${what}: invalid topic filter '${filter}'`);
  }
  return filter;
}

/** `/sub <topic> [qos]` */
export function parseMqttSubArgs(args: string, dflt: Qos): { topic: string; qos: Qos } {
  const parts = args.split(/\s+/).filter((p) => p !== '');
  const [topic, qos, extra] = parts;
  if (topic === undefined) throw usageError('/sub needs a topic filter, e.g. /sub sensors/# 1');
  if (extra !== undefined) throw usageError(`/sub takes a topic filter and a QoS, not '${args}'`);
  return {
    topic: checkTopicFilter(topic, '/sub'),
    qos: qos === undefined ? dflt : parseQos(qos, '/sub QoS'),
  };
}

/**
 * `/pub <topic> <payload> [--qos n] [--retain]`: the options may also come right after the
 * topic; the payload is the rest of the line with its spaces.
 */
export function parsePubArgs(
  args: string,
  dflt: Qos,
): { topic: string; payload: string; qos: Qos; retain: boolean } {
  const m = /^(\S+)(?:\s([\s\S]*))?$/.exec(args.trim());
  if (!m?.[1]) throw usageError('/pub needs a topic and a payload, e.g. /pub sensors/t1 21.5');
  const topic = checkTopicName(m[1], '/pub');
  let rest = m[2] ?? '';
  let qos = dflt;
  let retain = false;
  const option = /^(--retain|--qos\s+(\S+))(?:\s+|$)/;
  const trailing = /(?:^|\s+)(--retain|--qos\s+(\S+))\s*$/;
  for (;;) {
    const lead = option.exec(rest);
    if (lead) {
      if (lead[1] === '--retain') retain = true;
      else qos = parseQos(lead[2] ?? '', '/pub --qos');
      rest = rest.slice(lead[0].length);
      continue;
    }
    const tail = trailing.exec(rest);
    if (tail) {
      if (tail[1] === '--retain') retain = true;
      else qos = parseQos(tail[2] ?? '', '/pub --qos');
      rest = rest.slice(0, tail.index);
      continue;
    }
    break;
  }
  return { topic, payload: rest, qos, retain };
}
