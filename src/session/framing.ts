// Pure: split an input byte stream into messages (SPEC §6 framing, §10 terminators).

export type Framing = 'line' | 'null' | 'whole';

const EMPTY = Buffer.alloc(0);

/**
 * The messages of one input chunk without a Buffer object each: `head` (whole buffers, a message
 * joined across chunks) first, then `starts[i]..ends[i]` of `chunk`. The send fast path frames
 * straight from the chunk; anything else asks toBuffers().
 */
export class MessageBatch {
  head: Buffer[] = [];
  chunk: Buffer = EMPTY;
  starts: number[] = [];
  ends: number[] = [];

  get count(): number {
    return this.head.length + this.starts.length;
  }

  /** The messages as buffers (views into the chunk), in order. */
  toBuffers(): Buffer[] {
    const out = this.head.slice();
    for (let i = 0; i < this.starts.length; i++)
      out.push(this.chunk.subarray(this.starts[i], this.ends[i]));
    return out;
  }

  clear(): void {
    this.head = [];
    this.chunk = EMPTY;
    this.starts = [];
    this.ends = [];
  }
}

/**
 * Splits chunks into messages. `\n` (with a preceding `\r` removed) or NUL terminate a message;
 * a trailing terminator adds no empty message; a last chunk without one is still a message.
 * Messages are views into the input chunks where possible (no copy).
 */
export class Splitter {
  private carry: Buffer[] = [];
  private carryLength = 0;
  private readonly sep: number;

  constructor(private readonly framing: Framing) {
    this.sep = framing === 'null' ? 0 : 0x0a;
  }

  push(chunk: Buffer, emit: (message: Buffer) => void): void {
    if (this.framing === 'whole') {
      this.carry.push(chunk);
      this.carryLength += chunk.length;
      return;
    }
    let start = 0;
    for (let i = chunk.indexOf(this.sep, start); i !== -1; i = chunk.indexOf(this.sep, start)) {
      let piece = chunk.subarray(start, i);
      if (this.carryLength > 0) {
        piece = Buffer.concat([...this.carry, piece]);
        this.carry = [];
        this.carryLength = 0;
      }
      emit(this.trim(piece));
      start = i + 1;
    }
    if (start < chunk.length) {
      this.carry.push(chunk.subarray(start));
      this.carryLength += chunk.length - start;
    }
  }

  /**
   * push() for 'line' and 'null' framing, adding to `batch` instead of a Buffer per message: the
   * same messages in the same order (a message joined with the carry goes to `batch.head`).
   * `batch` must be empty or hold this same chunk's messages.
   */
  pushBatch(chunk: Buffer, batch: MessageBatch): void {
    const sep = this.sep;
    const crlf = this.framing === 'line';
    batch.chunk = chunk;
    let start = 0;
    let i = chunk.indexOf(sep, 0);
    if (i !== -1 && this.carryLength > 0) {
      const joined = Buffer.concat([...this.carry, chunk.subarray(0, i)]);
      this.carry = [];
      this.carryLength = 0;
      batch.head.push(this.trim(joined));
      start = i + 1;
      i = chunk.indexOf(sep, start);
    }
    const { starts, ends } = batch;
    for (; i !== -1; i = chunk.indexOf(sep, start)) {
      starts.push(start);
      ends.push(crlf && i > start && chunk[i - 1] === 0x0d ? i - 1 : i);
      start = i + 1;
    }
    if (start < chunk.length) {
      this.carry.push(chunk.subarray(start));
      this.carryLength += chunk.length - start;
    }
  }

  /** End of input: the unterminated rest, if any (for 'whole', everything). */
  end(emit: (message: Buffer) => void): void {
    if (this.framing === 'whole') {
      emit(Buffer.concat(this.carry));
    } else if (this.carryLength > 0) {
      emit(this.trim(Buffer.concat(this.carry)));
    }
    this.carry = [];
    this.carryLength = 0;
  }

  /** Bytes held back waiting for a terminator. */
  get pending(): number {
    return this.carryLength;
  }

  private trim(piece: Buffer): Buffer {
    if (this.framing === 'line' && piece.length > 0 && piece[piece.length - 1] === 0x0d) {
      return piece.subarray(0, piece.length - 1);
    }
    return piece;
  }
}
