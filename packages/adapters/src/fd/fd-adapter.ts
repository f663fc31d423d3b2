import * as E from 'fp-ts/lib/Either.js';

import { native } from '@rxipc/native';

import { defineAdapter } from '../adapter.js';
import { fdTransport } from './fd-transport.js';

/** An `fd:` endpoint: the descriptor to read and the one to write (often the same). */
export interface FdEndpoint {
  readonly read: number;
  readonly write: number;
}

const FD = /^(\d{1,9})(?:,(\d{1,9}))?$/;

/**
 * `fd:N` reads and writes descriptor N; `fd:R,W` reads R and writes W (`fd:0,1` is stdin and
 * stdout; `fd:3,4` is what `pipeLink` hands a child). The descriptors are inherited, not
 * opened: the channel adopts them, sets `O_NONBLOCK`, and on close puts their flags back
 * and closes them (except 0, 1 and 2, which stay open for the rest of the program).
 */
export const fdAdapter = defineAdapter<FdEndpoint>({
  scheme: 'fd',
  kind: 'stream',
  description: 'an inherited file descriptor: fd:0 (stdin), fd:3,4 (read 3, write 4)',
  parse(parts) {
    const match = FD.exec(parts.body);
    if (match === null) {
      return E.left([
        `fd: takes a descriptor number or two (fd:0, fd:3,4), got ${JSON.stringify(parts.body)}`,
      ]);
    }
    const read = Number(match[1]);
    return E.right({ read, write: match[2] === undefined ? read : Number(match[2]) });
  },
  connect({ read, write }) {
    const adopt = (fd: number) => native.fdAdopt(fd, { closeOnClose: fd > 2 });
    const readHandle = adopt(read);
    let writeHandle = readHandle;
    if (write !== read) {
      try {
        writeHandle = adopt(write);
      } catch (error) {
        native.fdClose(readHandle);
        throw error;
      }
    }
    return fdTransport({ read: readHandle, write: writeHandle });
  },
});
