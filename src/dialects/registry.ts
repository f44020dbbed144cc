// Where each dialect's module is: loaded on first use only, so a run without a dialect (and a
// dialect run, for the others) never parses their codecs.

import { usageError } from '../errors.js';
import type { DialectSpec } from './dialect.js';
import type { DialectName } from './options.js';

const MODULES: Partial<Record<DialectName, () => Promise<DialectSpec>>> = {
  socketio: async () => (await import('./socketio.js')).socketio as DialectSpec,
  graphql: async () => (await import('./graphql.js')).graphql as DialectSpec,
  jsonrpc: async () => (await import('./jsonrpc.js')).jsonrpc as DialectSpec,
  cdp: async () => (await import('./cdp.js')).cdp as DialectSpec,
  stomp: async () => (await import('./stomp.js')).stomp as DialectSpec,
  mqtt: async () => (await import('./mqtt.js')).mqtt as DialectSpec,
};

export async function loadDialect(name: DialectName): Promise<DialectSpec> {
  const load = MODULES[name];
  if (!load) throw usageError(`the ${name} dialect is not available in this build`);
  return load();
}
