/**
 * The rxipc pong: `rx-pong URI`. Creates the ring, reports ready, and sends every message back
 * as it arrives, until the ping ends the stream.
 */
import { open } from '@rxipc/adapters';

import { fail, peerArgs, reportReady } from '../../peers/protocol.js';

const args = peerArgs(['uri'] as const);
const channel = open(args.uri);
channel.subscribe({
  next: (message) => channel.next(message),
  error: fail,
  complete: () => channel.close().then(() => process.exit(0), fail),
});
reportReady();
