/**
 * Removing this process's named objects when it is stopped by SIGINT, SIGTERM or SIGHUP,
 * whose default action ends a process without its `exit` handlers.
 *
 * The policy, so that rxipc never hijacks a program's own signal handling:
 * - A handler is added for a signal only if the program has none for it when the first named
 *   object is registered.
 * - When the signal comes and rxipc's handler is still the only one, it removes the objects,
 *   removes itself, and raises the signal again: the process ends as it would have without
 *   rxipc (same signal, so the shell sees 130 for SIGINT and 143 for SIGTERM).
 * - When the program has added its own handler since, rxipc's does nothing: the program
 *   decides, and if it exits, the `exit` hook removes the objects.
 * - SIGKILL cannot be caught: `rxipc clean` removes what a killed process left.
 */

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

let installed = false;

/**
 * Installs the handlers described above, once per process; `cleanup` must be synchronous and
 * must not throw.
 */
export function installSignalCleanup(cleanup: () => void): void {
  if (installed) return;
  installed = true;
  for (const signal of SIGNALS) {
    if (process.listenerCount(signal) > 0) continue;
    const handler = (): void => {
      if (process.listenerCount(signal) > 1) return;
      cleanup();
      process.removeListener(signal, handler);
      // With no listener left, Node restores the default action: this ends the process.
      process.kill(process.pid, signal);
    };
    process.on(signal, handler);
  }
}
