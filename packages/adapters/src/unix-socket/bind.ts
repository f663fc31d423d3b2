import { chmodSync, fchmodSync, lstatSync, readFileSync, unlinkSync } from 'node:fs';

import type { Binding, FdHandle } from '@rxipc/native';

import { isSystemError } from '../errors.js';
import { listNamedObjects, registerNamedObject } from '../registry/named-objects.js';
import { applyBuffers, checkType } from './connect.js';
import { addressText, type UnixSocketEndpoint } from './uri.js';

/** A bound (and, for stream and seqpacket, listening) socket, and how to let go of its name. */
export interface BoundSocket {
  readonly handle: FdHandle;
  /** Removes the socket file (only if it is still the one bound here) and its record. */
  readonly unlink: () => void;
}

/**
 * Binds a new socket of the endpoint's type to its address and, for stream and seqpacket,
 * listens (or, for `?fd=N`, takes the inherited socket as it is). A socket file is created with exactly `mode` (0600 by default), recorded in the
 * registry of named objects, and removed by `unlink` (or at exit).
 *
 * A socket file that is already there is handled by asking it: a connect that is refused
 * (`ECONNREFUSED`) means its owner died without removing it, so it is stale, removed and
 * replaced; a connect that succeeds means a live socket, which is never taken over: the
 * `EADDRINUSE` error then names the process that holds it, when that can be known (the
 * listener's `SO_PEERCRED`, else the registry). Anything at the path that is not a socket is
 * left alone (`EADDRINUSE` too).
 */
export function bindSocket(endpoint: UnixSocketEndpoint, binding: Binding): BoundSocket {
  if (endpoint.fd !== undefined) return inheritedSocket(endpoint, endpoint.fd, binding);
  const address = endpoint.address!;
  const isPath = address.startsWith('/');
  const handle = binding.socket(endpoint.type);
  try {
    applyBuffers(endpoint, handle, binding);
    // bind(2) creates the file with the socket inode's mode narrowed by the umask: set it
    // first, so the file is never more open than asked, not even for a moment.
    if (isPath) fchmodSync(binding.fdNumber(handle), endpoint.mode);
    bindOrReplaceStale(endpoint, handle, binding);
  } catch (error) {
    binding.fdClose(handle);
    throw error;
  }

  let release = (): void => {};
  if (isPath) {
    let inode = 0;
    try {
      // Exactly the mode asked for, whatever the umask took away.
      chmodSync(address, endpoint.mode);
      inode = lstatSync(address).ino;
    } catch (error) {
      binding.fdClose(handle);
      unlinkQuietly(address);
      throw error;
    }
    // Remove the file only while it is still ours: a later server may have replaced it.
    const remove = (): void => {
      try {
        if (lstatSync(address).ino === inode) unlinkSync(address);
      } catch {
        // already gone
      }
    };
    const forget = registerNamedObject(
      { kind: 'unix-socket', name: address, mode: endpoint.mode },
      remove,
    );
    release = () => forget(true);
  }

  if (endpoint.type !== 'dgram') {
    try {
      binding.socketListen(handle, endpoint.backlog);
    } catch (error) {
      binding.fdClose(handle);
      release();
      throw error;
    }
  }
  return { handle, unlink: release };
}

/**
 * A socket the process inherited already bound (and, for stream and seqpacket, listening),
 * as a service manager's socket activation hands it over (`unix:?fd=3`). Its name is not
 * ours: nothing is unlinked.
 */
function inheritedSocket(endpoint: UnixSocketEndpoint, fd: number, binding: Binding): BoundSocket {
  const handle = binding.fdAdopt(fd, { closeOnClose: fd > 2 });
  try {
    checkType(endpoint, handle, binding);
    binding.fdSetFlags(handle, { nonblock: true });
  } catch (error) {
    binding.fdClose(handle);
    throw error;
  }
  return { handle, unlink: () => {} };
}

function bindOrReplaceStale(
  endpoint: UnixSocketEndpoint,
  handle: FdHandle,
  binding: Binding,
): void {
  const address = endpoint.address!;
  try {
    binding.socketBind(handle, address);
    return;
  } catch (error) {
    if (!isSystemError(error, 'EADDRINUSE')) throw error;
  }
  const probe = probeExisting(endpoint, binding);
  if (probe.state === 'live') {
    throw binding.systemError(
      98,
      'bind',
      addressText(address),
      `${probe.holder}; rxipc never takes over a live socket: stop that process, or choose another address`,
    );
  }
  if (probe.state === 'other') {
    throw binding.systemError(
      98,
      'bind',
      addressText(address),
      `${probe.what} is at this path and is no socket; rxipc removes only stale sockets`,
    );
  }
  // Stale (or gone meanwhile): replace it. A second EADDRINUSE means another process was
  // quicker; that one is live, and its error says so.
  if (probe.state === 'stale') unlinkQuietly(address);
  binding.socketBind(handle, address);
}

type Probe =
  | { state: 'stale' | 'gone' }
  | { state: 'live'; holder: string }
  | { state: 'other'; what: string };

/** Finds out what holds an address that bind(2) found taken. */
function probeExisting(endpoint: UnixSocketEndpoint, binding: Binding): Probe {
  const address = endpoint.address!;
  if (address.startsWith('/')) {
    let mode: number;
    try {
      mode = lstatSync(address).mode;
    } catch {
      return { state: 'gone' };
    }
    const type = mode & 0o170000;
    if (type !== 0o140000) {
      return { state: 'other', what: type === 0o100000 ? 'a regular file' : 'a file' };
    }
  }
  const probe = binding.socket(endpoint.type);
  try {
    binding.socketConnect(probe, address);
    // Connected (or queued on a full backlog: someone is listening either way).
    return { state: 'live', holder: describeHolder(endpoint, probe, binding) };
  } catch (error) {
    if (isSystemError(error, 'ECONNREFUSED')) return { state: 'stale' };
    if (isSystemError(error, 'ENOENT')) return { state: 'gone' };
    if (isSystemError(error, 'EPROTOTYPE')) {
      return { state: 'live', holder: `a live socket of another type is bound there` };
    }
    throw error;
  } finally {
    binding.fdClose(probe);
  }
}

function describeHolder(endpoint: UnixSocketEndpoint, probe: FdHandle, binding: Binding): string {
  let pid = 0;
  if (endpoint.type !== 'dgram') {
    // Seen from a client, SO_PEERCRED is the listener's process as of its listen(2).
    try {
      pid = binding.socketPeerCred(probe).pid;
    } catch {
      // not connected yet (a full backlog): fall back to the registry
    }
  }
  if (pid === 0) {
    const entry = listNamedObjects().find(
      (e) => e.kind === 'unix-socket' && e.name === endpoint.address && e.ownerAlive,
    );
    pid = entry?.pid ?? 0;
  }
  if (pid === 0) return 'a live socket is bound there (its process is unknown)';
  return `a live socket is held there by pid ${pid}${processName(pid)}`;
}

function processName(pid: number): string {
  try {
    return ` (${readFileSync(`/proc/${pid}/comm`, 'utf8').trim()})`;
  } catch {
    return '';
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
