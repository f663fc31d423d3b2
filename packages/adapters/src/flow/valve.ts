/**
 * Demand, the way an rxipc source learns it. RxJS has no backpressure protocol, so rxipc adds
 * a small one: a consumer that works asynchronously subscribes through
 * {@link subscribeWithValve}, and every rxipc source subscribed during that call (through
 * `map`, `filter` and other synchronous operators in between) reads from the kernel only
 * while the valve is open. A closed valve stops the source between two messages; the kernel
 * buffer then fills and the peer's `send` waits. Nested valves combine: the source runs only
 * while every consumer below it has demand.
 */
import type { Observable, Observer, Subscription } from 'rxjs';

/** Open while the consumer wants more messages. */
export interface Valve {
  readonly open: boolean;
  /** Calls `listener` each time the valve opens; returns a function that stops it. */
  onOpen(listener: () => void): () => void;
}

/** A valve its owner opens and closes. */
export class ValveController implements Valve {
  private isOpen = true;
  private readonly listeners = new Set<() => void>();

  get open(): boolean {
    return this.isOpen;
  }

  /** Stops the source before its next message. */
  close(): void {
    this.isOpen = false;
  }

  /** Lets the source go on; listeners run synchronously. */
  reopen(): void {
    if (this.isOpen) return;
    this.isOpen = true;
    for (const listener of [...this.listeners]) listener();
  }

  onOpen(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

let current: Valve | undefined;

/** The valve in force for a source being subscribed now, if any (read by rxipc sources). */
export function currentValve(): Valve | undefined {
  return current;
}

/**
 * Subscribes to `source` so that rxipc sources subscribed synchronously inside honour
 * `valve` (combined with any valve already in force further downstream).
 */
export function subscribeWithValve<T>(
  source: Observable<T>,
  valve: Valve,
  observer: Partial<Observer<T>>,
): Subscription {
  const outer = current;
  current = outer === undefined ? valve : allOpen(outer, valve);
  try {
    return source.subscribe(observer);
  } finally {
    current = outer;
  }
}

function allOpen(a: Valve, b: Valve): Valve {
  return {
    get open() {
      return a.open && b.open;
    },
    onOpen(listener) {
      const fire = (): void => {
        if (a.open && b.open) listener();
      };
      const offA = a.onOpen(fire);
      const offB = b.onOpen(fire);
      return () => {
        offA();
        offB();
      };
    },
  };
}
