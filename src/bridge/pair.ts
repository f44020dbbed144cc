// One function joins two byte endpoints (websocat's Session(A, B)): bytes both ways with
// back-pressure, each side's end of input passed on as the other side's end of output
// (half-close), an error on either side tearing both down.

import type { Duplex, Readable, Writable } from 'node:stream';

/**
 * Pipe a → b and b → a. Resolves once both directions are done: a direction is done when its
 * source ended and its destination has taken everything (finish), or when its destination is
 * gone (destroyed: nothing more can be delivered). Never rejects; errors destroy both sides and
 * are reported through `onError`.
 */
export function pair(
  a: Duplex,
  b: Duplex,
  onError?: (err: Error, side: Duplex) => void,
): Promise<void> {
  return new Promise((resolve) => {
    let pending = 2;
    let failed = false;
    const done = () => {
      if (--pending === 0) resolve();
    };
    const fail = (side: Duplex) => (err: Error) => {
      if (failed) return;
      failed = true;
      onError?.(err, side);
      const other = side === a ? b : a;
      other.destroy(err);
      side.destroy();
    };
    a.on('error', fail(a));
    b.on('error', fail(b));
    pump(a, b, done);
    pump(b, a, done);
  });
}

function pump(from: Readable, to: Writable, done: () => void): void {
  let over = false;
  const finish = () => {
    if (over) return;
    over = true;
    to.off('finish', finish);
    to.off('close', finish);
    from.off('close', fromClosed);
    done();
  };
  // A source destroyed without an end (a killed process, a reset socket): end the destination.
  const fromClosed = () => {
    if (!from.readableEnded && !to.writableEnded && !to.destroyed) to.end();
  };
  to.once('finish', finish);
  to.once('close', finish);
  // Either side may be over before pairing (a TCP client that left while its WebSocket was
  // still connecting): the events have passed, so act on the state.
  if (to.destroyed || to.writableFinished) {
    finish();
    return;
  }
  if (from.destroyed) {
    fromClosed();
    return;
  }
  from.once('close', fromClosed);
  from.pipe(to);
}
