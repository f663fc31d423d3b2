import { native } from '@rxipc/native';

import { defineAdapter } from '../adapter.js';
import { posixMqTransport } from './posix-mq-transport.js';
import { MQ_OPTIONS, parseMqUri, type PosixMqEndpoint } from './uri.js';

/**
 * `mq:/name` is a POSIX message queue (mq_overview(7)): `mq:/jobs?maxmsg=10&msgsize=8192`.
 * The channel creates the queue if it does not exist (mode `0600`, `O_EXCL` so it knows it
 * did) and unlinks it on close unless `persist=true`; with `create=false` it only opens an
 * existing one, with `exclusive=true` it fails if one exists. Messages carry raw bytes and
 * leave with `priority=N` (default 0); the reader gets the highest priority first. For the
 * priority of each message, use `posixMq(..., { envelopes: true })`. Registered by the
 * package; `open('mq:/jobs')` uses it.
 *
 * @example
 * ```ts
 * open('mq:/jobs?maxmsg=10&msgsize=1024&priority=2').subscribe((bytes) => console.log(bytes));
 * ```
 */
export const posixMqAdapter = defineAdapter<PosixMqEndpoint>({
  scheme: 'mq',
  kind: 'message',
  description: 'a POSIX message queue: mq:/jobs?maxmsg=10&msgsize=8192&priority=0',
  options: MQ_OPTIONS,
  parse: parseMqUri,
  connect: (endpoint) => posixMqTransport(endpoint, { binding: native }),
});
