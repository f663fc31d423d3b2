/**
 * Envelopes: a message together with what the kernel keeps beside its bytes (a POSIX queue's
 * priority, a System V queue's type). The channel engine moves plain `Uint8Array`s, so the
 * extra number travels in a side table keyed by the message object: the transport tags each
 * message it receives and reads the tag of each message it sends; the envelope codec turns
 * tagged bytes into `{ data, [field]: n }` and back. A WeakMap, so a tag lives exactly as
 * long as its message.
 */
import * as E from 'fp-ts/lib/Either.js';

import type { Codec } from '../codecs/codec.js';

/** Numbers attached to message objects (priorities, types). */
export class MessageTags {
  private readonly tags = new WeakMap<Uint8Array, number>();

  /** Tags `message` with `value`. */
  set(message: Uint8Array, value: number): void {
    this.tags.set(message, value);
  }

  /** The tag of `message`, or `fallback`. */
  get(message: Uint8Array, fallback: number): number {
    return this.tags.get(message) ?? fallback;
  }
}

/**
 * A codec whose values are `{ data, [field]: number }`: `data` goes through `inner`, the
 * number through `tags` (`fallback` when a sent envelope has none; `check` refuses a bad one
 * by throwing). `encode` returns a new view of the encoded bytes (never a copy), so the same
 * bytes sent twice with different numbers carry two tags. The caller gives the value types.
 */
export function envelopeCodec(
  inner: Codec<unknown>,
  tags: MessageTags,
  field: string,
  fallback: number,
  check: (value: number) => void,
): Codec<unknown> {
  return {
    name: `${inner.name}+${field}`,
    encode(envelope) {
      if (typeof envelope !== 'object' || envelope === null || !('data' in envelope)) {
        throw new TypeError(
          `this channel sends messages as { data, ${field} }, got ${envelope === null ? 'null' : typeof envelope}`,
        );
      }
      const bytes = inner.encode((envelope as { data: unknown }).data);
      const value = (envelope as Record<string, unknown>)[field] ?? fallback;
      if (typeof value !== 'number') {
        throw new TypeError(`the ${field} of a message must be a number, got ${typeof value}`);
      }
      check(value);
      const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      tags.set(view, value);
      return view;
    },
    decode(bytes) {
      const value = tags.get(bytes, fallback);
      return E.map((data: unknown) => ({ data, [field]: value }))(inner.decode(bytes));
    },
  };
}
