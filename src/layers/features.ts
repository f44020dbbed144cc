// The registry of layer features, in wrapping order (innermost first): a dialect speaks the
// application protocol on the raw frames; decoders turn binary frames into values; filters
// rewrite what is shown; the conversation (--await steps, --reply, --heartbeat) sees the result.
// Each entry loads its module only when the options ask for it (start-up never pays for it).

import { dialectWanted } from '../dialects/options.js';
import type { Options } from '../options.js';
import type { FeatureFactory, LayerFeature } from './layer.js';

export const FEATURES: FeatureFactory[] = [
  // dialects (socketio, graphql, jsonrpc, cdp, stomp, mqtt) — src/dialects/
  async (o) =>
    o.kind === 'client' && dialectWanted(o.dialect, o.connect.url, o.connect.subprotocols)
      ? (await import('../dialects/feature.js')).dialectFeature(o)
      : undefined,
  // views (--decode, --filter) — src/views/
  async (o) =>
    o.conversation.views.decode !== undefined || o.conversation.views.encode !== undefined
      ? (await import('../views/decode.js')).decodeFeature(o)
      : undefined,
  async (o) =>
    o.conversation.views.filter !== undefined || o.session.mode === 'repl'
      ? (await import('../views/filter.js')).filterFeature(o)
      : undefined,
  // conversation (--reply, --heartbeat, --await steps) — src/conversation/
  async (o) =>
    o.conversation.active
      ? (await import('../conversation/conversation.js')).conversationFeature(o)
      : undefined,
];

/** The features this run uses, innermost first. */
export async function featuresFor(options: Options): Promise<LayerFeature[]> {
  const made = await Promise.all(FEATURES.map((f) => f(options)));
  return made.filter((f): f is LayerFeature => f !== undefined);
}
