/** Host A's stage: n → n² + 1. */
import { defineStage } from '@rxipc/core';

export default defineStage({ map: (n: number) => n * n + 1 });
