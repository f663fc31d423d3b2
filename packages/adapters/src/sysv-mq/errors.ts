/**
 * Friendly System V queue errors: the kernel's error with a hint that says what happened and
 * what to do, and the translation of "the identifier is no longer valid" into `EIDRM`.
 */
import { constants } from 'node:os';

import type { Binding, SystemError } from '@rxipc/native';

import { isSystemError } from '../errors.js';
import { procNumber } from '../internal/proc.js';

/** The hint for a failed `msgget`/`ftok`/`msgctl` while opening, or `undefined`. */
export function openError(binding: Binding, error: unknown, label: string): unknown {
  if (!isSystemError(error)) return error;
  let hint: string | undefined;
  switch (error.code) {
    case 'ENOENT':
      hint =
        error.syscall === 'ftok'
          ? 'ftok needs an existing file: create it first'
          : `no queue has the key ${label}: let this channel create it (create=true), or start the process that does first`;
      break;
    case 'EEXIST':
      hint = `a queue with the key ${label} exists and exclusive=true was asked`;
      break;
    case 'ENOSPC':
      hint = `the system has msgmni (${procNumber('/proc/sys/kernel/msgmni') ?? 'unknown'}) queues already; see /proc/sys/kernel/msgmni, or remove unused ones (ipcrm -q, rxipc clean)`;
      break;
    case 'EACCES':
      hint = `the permission bits of queue ${label} do not allow this access (ipcs -q shows them)`;
      break;
    case 'EINVAL':
      if (error.syscall === 'msgctl') hint = `there is no queue with the identifier ${label}`;
      break;
  }
  return hint === undefined ? error : binding.systemError(error.errno, error.syscall, label, hint);
}

/** `EIDRM` for a queue that was removed while this channel used it. */
export function removedError(binding: Binding, syscall: string, label: string): SystemError {
  return binding.systemError(
    constants.errno.EIDRM,
    syscall,
    label,
    'the queue was removed (ipcrm -q, or msgctl IPC_RMID in another process) while this channel used it',
  );
}

/**
 * An error from a call on an open queue: the kernel says `EIDRM` to a process that was
 * blocked when the queue went, and `EINVAL` to every call after; both mean "removed" when the
 * queue no longer answers IPC_STAT.
 */
export function callError(
  binding: Binding,
  error: unknown,
  label: string,
  stillThere: () => boolean,
): unknown {
  if (!isSystemError(error)) return error;
  if (error.code === 'EIDRM' || (error.code === 'EINVAL' && !stillThere())) {
    return removedError(binding, error.syscall, label);
  }
  return binding.systemError(error.errno, error.syscall, label);
}
