// parseOptions narrowed to client options, for tests.

import {
  type ClientOptions,
  type Environment,
  parseOptions,
  type RawFlags,
} from '../../src/options.js';

export function parseClient(flags: RawFlags, env: Environment): ClientOptions {
  const o = parseOptions(flags, env);
  if (o.kind !== 'client') throw new Error('expected client options');
  return o;
}
