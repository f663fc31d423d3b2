/**
 * Where a queue transport puts what it receives, one message per kernel call: packed at their
 * real lengths into chunks of at least 64 KiB (and at least 8 of the largest message), each
 * message a view of its chunk. A chunk is replaced once it has less than `room` bytes left
 * (the call needs that much room, whatever the message's length), and lives while any message
 * cut from it does. The call writes into `chunk` at `offset`, so a call that finds the queue
 * empty makes no view. Read `chunk` before `offset` (as argument order does): getting the
 * chunk is what replaces a full one.
 *
 * @example
 * ```ts
 * const length = binding.mqReceive(handle, received.chunk, undefined, received.offset);
 * if (length !== null) deliver(received.take(length));
 * ```
 */
export class ReceiveChunks {
  private current: Uint8Array;
  private used = 0;
  private readonly size: number;

  /** `room`: the most bytes one call may write (the queue's largest message). */
  constructor(private readonly room: number) {
    this.size = Math.max(64 * 1024, 8 * room);
    this.current = new Uint8Array(this.size);
  }

  /** The chunk to receive into, with at least `room` bytes free from `offset`. */
  get chunk(): Uint8Array {
    if (this.current.length - this.used < this.room) {
      this.current = new Uint8Array(this.size);
      this.used = 0;
    }
    return this.current;
  }

  /** Where the next message goes in `chunk`. */
  get offset(): number {
    return this.used;
  }

  /** The `length` bytes the call just wrote at `offset`, as a view; the next go after them. */
  take(length: number): Uint8Array {
    const start = this.used;
    this.used = start + length;
    return this.current.subarray(start, start + length);
  }
}
