/**
 * Friendly POSIX queue errors: the kernel's error (same `code`, `errno`, `syscall`, `path`),
 * with a hint that names the limit and the file or resource limit that sets it.
 */
import { constants } from 'node:os';

import type { Binding, SystemError } from '@rxipc/native';

import { isSystemError } from '../errors.js';
import { procNumber, processLimit } from '../internal/proc.js';

const MQUEUE = '/proc/sys/fs/mqueue';

/** What was asked when a queue was opened (for the hint). */
export interface MqOpenAttempt {
  readonly name: string;
  readonly maxmsg?: number;
  readonly msgsize?: number;
}

/**
 * The error to report for a failed `mq_open`: the same system error with a hint (which
 * limit was hit, where it is set, what to change). Anything else is returned as it is.
 */
export function mqOpenError(binding: Binding, error: unknown, attempt: MqOpenAttempt): unknown {
  if (!isSystemError(error)) return error;
  const hint = openHint(error.code, attempt);
  return hint === undefined ? error : withHint(binding, error, hint);
}

/** `EMSGSIZE` for a message longer than the queue's `msgsize`, naming both sizes. */
export function messageTooLong(
  binding: Binding,
  name: string,
  length: number,
  msgsize: number,
): SystemError {
  const limit = procNumber(`${MQUEUE}/msgsize_max`);
  return binding.systemError(
    constants.errno.EMSGSIZE,
    'mq_send',
    name,
    `a message of ${length} bytes exceeds the queue's msgsize of ${msgsize} bytes` +
      (limit === undefined
        ? ''
        : `; a new queue can have msgsize up to ${limit} bytes (${MQUEUE}/msgsize_max)`),
  );
}

function openHint(code: string, attempt: MqOpenAttempt): string | undefined {
  const { maxmsg, msgsize } = attempt;
  switch (code) {
    case 'EINVAL': {
      const msgMax = procNumber(`${MQUEUE}/msg_max`);
      const msgsizeMax = procNumber(`${MQUEUE}/msgsize_max`);
      const problems: string[] = [];
      if (maxmsg !== undefined && msgMax !== undefined && maxmsg > msgMax) {
        problems.push(`maxmsg ${maxmsg} exceeds the system limit ${msgMax}; see ${MQUEUE}/msg_max`);
      }
      if (msgsize !== undefined && msgsizeMax !== undefined && msgsize > msgsizeMax) {
        problems.push(
          `msgsize ${msgsize} exceeds the system limit ${msgsizeMax}; see ${MQUEUE}/msgsize_max`,
        );
      }
      return problems.length > 0
        ? `${problems.join('; ')}; raising a limit needs CAP_SYS_RESOURCE`
        : undefined;
    }
    case 'EMFILE': {
      const limit = processLimit('Max msgqueue size');
      const files = processLimit('Max open files');
      const bytes = queueBytes(
        maxmsg ?? procNumber(`${MQUEUE}/msg_default`) ?? 10,
        msgsize ?? procNumber(`${MQUEUE}/msgsize_default`) ?? 8192,
      );
      return (
        `the user's queues would exceed RLIMIT_MSGQUEUE (${limit ?? 'unknown'} bytes, ` +
        `ulimit -q; this queue takes about ${bytes} bytes of it, and every open queue of ` +
        `this user counts), or this process reached RLIMIT_NOFILE (${files ?? 'unknown'} descriptors)`
      );
    }
    case 'ENOSPC':
      return `the system has queues_max (${procNumber(`${MQUEUE}/queues_max`) ?? 'unknown'}) queues already; see ${MQUEUE}/queues_max, or remove unused ones (rxipc clean)`;
    case 'ENOENT':
      return 'no queue of that name: let this channel create it (create=true), or start the process that does first';
    case 'EEXIST':
      return 'the queue exists and exclusive=true was asked; drop it to open the existing queue';
    case 'EACCES':
      return "the queue's permission bits do not allow this access (see its creator's mode)";
    default:
      return undefined;
  }
}

/**
 * The bytes a queue counts against RLIMIT_MSGQUEUE, by mq_overview(7)'s formula on 64-bit
 * Linux: per message a `struct msg_msg` (48 bytes) and its text, plus a priority tree node
 * (40 bytes) per message up to MQ_PRIO_MAX.
 */
function queueBytes(maxmsg: number, msgsize: number): number {
  return maxmsg * (48 + msgsize) + Math.min(maxmsg, 32768) * 40;
}

function withHint(binding: Binding, error: SystemError, hint: string): SystemError {
  return binding.systemError(error.errno, error.syscall, error.path, hint);
}
