// Where each dialect's module is: loaded on first use only, so a run without a dialect (and a
// dialect run, for the others) never parses their codecs.

import { usageError } from '../errors.js';
import type { DialectSpec } from './dialect.js';
import type { DialectName } from './options.js';

const MODULES: Partial<Record<DialectName, () => Promise<DialectSpec>>> = {
  // One line per dialect: name: async () => (await import('./name.js')).name as DialectSpec,
  // (stomp and mqtt: src/dialects/stomp.ts, mqtt.ts, issue 13, add theirs).
  stomp: async () => (await import('./stomp.js')).stomp as DialectSpec,
  mqtt: async () => (await import('./mqtt.js')).mqtt as DialectSpec,
  stomp: async () => (await import('./stomp.js')).stomp as DialectSpec,
  jsonrpc: async () => (await import('./jsonrpc.js')).jsonrpc as DialectSpec,
  cdp: async () => (await import('./cdp.js')).cdp as DialectSpec,
};

export async function loadDialect(name: DialectName): Promise<DialectSpec> {
  const load = MODULES[name];
  if (!load) throw usageError(`the ${name} dialect is not available in this build`);
  return load();
}
