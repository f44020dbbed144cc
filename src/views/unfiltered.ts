// The text a message had before --filter rewrote it, for the layers above the filter: --await and
// --reply match the decoded message, not the filter's output (SPEC §17).

import type { MessageView } from '../peer.js';

export const unfilteredText = new WeakMap<MessageView, string>();

/**
 * A decoder's JSON text when the view carries none (raw output keeps the bytes unless
 * --decode-raw, and raw output writes `view.text` when set): the filter and the conversation
 * still see the decoded value.
 */
export const decodedText = new WeakMap<MessageView, string>();

/** What a text-matching layer sees of a message: its view's text, else the decoded JSON. */
export function viewText(view: MessageView | undefined): string | undefined {
  if (!view) return undefined;
  return view.text ?? decodedText.get(view);
}
