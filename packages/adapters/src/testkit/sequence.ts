/** A message of `size` bytes (at least 4) whose first four bytes are `seq`, big-endian. */
export function seqMessage(seq: number, size: number): Uint8Array {
  const message = new Uint8Array(Math.max(4, size));
  new DataView(message.buffer).setUint32(0, seq);
  for (let i = 4; i < message.byteLength; i++) message[i] = (seq + i) & 0xff;
  return message;
}

/** The sequence number in a message made by {@link seqMessage}. */
export function readSeq(message: Uint8Array): number {
  return new DataView(message.buffer, message.byteOffset, message.byteLength).getUint32(0);
}
