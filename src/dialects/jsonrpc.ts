// The jsonrpc dialect (SPEC §12): JSON-RPC 2.0 requests from `method [params]` lines, matched
// responses with their latency, notifications, /notify.

import type { DialectSpec } from './dialect.js';
import { NOTIFY, RpcDialect, type RpcState } from './rpc.js';

export const jsonrpc: DialectSpec<RpcState> = {
  name: 'jsonrpc',
  subprotocols: [],
  commands: [NOTIFY],
  initialState: () => ({ nextId: 1 }),
  create: (inner, env) => new RpcDialect(inner, env, [NOTIFY], false),
};
