// The text a message had before --filter rewrote it, for the layers above the filter: --await and
// --reply match the decoded message, not the filter's output (SPEC §17).

import type { MessageView } from '../peer.js';

export const unfilteredText = new WeakMap<MessageView, string>();
