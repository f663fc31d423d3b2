/**
 * The protocol between the bench runner and its peer processes. A consumer prints JSON lines
 * on stdout: `{"event":"ready"}` when the producer may start, then one
 * `{"event":"result","messages":N,"bytes":B,"seconds":S}` at end of stream. A peer that
 * fails writes a message to stderr and exits with status 1. The C programs speak the same.
 */

/** What a consumer measured: counts, and seconds from the first message to end of stream. */
export interface PeerResult {
  readonly messages: number;
  readonly bytes: number;
  readonly seconds: number;
}

/** Tells the runner that the producer may start. */
export function reportReady(): void {
  process.stdout.write('{"event":"ready"}\n');
}

/**
 * Checks what arrived against what was sent and reports it; on a mismatch, fails the peer.
 * `start` is the `process.hrtime.bigint()` of the first message.
 */
export function reportResult(
  received: { messages: number; bytes: number; start: bigint },
  expected: { count: number; size: number },
): void {
  const seconds = Number(process.hrtime.bigint() - received.start) / 1e9;
  if (received.messages !== expected.count || received.bytes !== expected.count * expected.size) {
    fail(
      `received ${received.messages} messages (${received.bytes} bytes), expected ${expected.count} of ${expected.size} bytes`,
    );
  }
  const result: PeerResult = { messages: received.messages, bytes: received.bytes, seconds };
  process.stdout.write(`${JSON.stringify({ event: 'result', ...result })}\n`);
}

/** Writes `error` to stderr and ends the process with status 1. */
export function fail(error: unknown): never {
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`${peerName()}: ${text}\n`);
  process.exit(1);
}

/**
 * Reads this peer's positional arguments: `names` in order, each a string; `count` and `size`
 * also checked as non-negative integers.
 */
export function peerArgs<const N extends readonly string[]>(names: N): Record<N[number], string> {
  const values = process.argv.slice(2);
  if (values.length !== names.length) fail(`usage: ${peerName()} ${names.join(' ')}`);
  const args: Record<string, string> = {};
  names.forEach((name, i) => {
    const value = values[i]!;
    if ((name === 'count' || name === 'size') && !/^\d{1,12}$/.test(value)) {
      fail(`${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
    }
    args[name] = value;
  });
  return args as Record<N[number], string>;
}

function peerName(): string {
  return (process.argv[1] ?? 'peer').replace(/^.*\//, '').replace(/\.[jt]s$/, '');
}
