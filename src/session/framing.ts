// Pure: split an input byte stream into messages (SPEC §6 framing, §10 terminators).

export type Framing = 'line' | 'null' | 'whole';

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
