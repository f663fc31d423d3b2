import { native } from '@rxipc/native';

import { defineAdapter } from '../adapter.js';
import { sysvMqTransport } from './sysv-mq-transport.js';
import { parseSysvMqUri, SYSV_MQ_OPTIONS, type SysvMqEndpoint } from './uri.js';

/**
 * `sysv-mq:` is a System V message queue (sysvipc(7)): `sysv-mq:0x1234`, `sysv-mq:/etc/app?project=7`
 * (an ftok key), `sysv-mq:private` (a new keyless queue), `sysv-mq:id:5` (an existing one).
 * Outgoing messages have type `type` (default 1); the channel receives what `msgtyp` and
 * `except` select (default: everything, in order). A queue the channel created is removed on
 * close unless `persist=true`. For each message's type, use `sysvMq(..., { envelopes: true })`.
 * Registered by the package; `open('sysv-mq:0x1234')` uses it.
 *
 * @example
 * ```ts
 * open('sysv-mq:0x1234?type=2&msgtyp=1').subscribe((bytes) => console.log(bytes));
 * ```
 */
export const sysvMqAdapter = defineAdapter<SysvMqEndpoint>({
  scheme: 'sysv-mq',
  kind: 'message',
  description:
    'a System V message queue: sysv-mq:0x1234?type=1&msgtyp=0, sysv-mq:private, sysv-mq:id:N',
  options: SYSV_MQ_OPTIONS,
  parse: parseSysvMqUri,
  connect: (endpoint) => sysvMqTransport(endpoint, { binding: native }),
});
