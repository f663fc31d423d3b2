/** Host B's stage: keeps the primes (trial division: deliberately CPU-bound work). */
import { defineStage } from '@rxipc/core';

export default defineStage({
  map(n: number): number | undefined {
    if (n < 2) return undefined;
    for (let d = 2; d * d <= n; d++) if (n % d === 0) return undefined;
    return n;
  },
});
