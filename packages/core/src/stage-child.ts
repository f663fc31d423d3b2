/**
 * The program a stage process runs (`node stage-child.js`, started by a pipeline): it arms
 * the parent-death signal, opens the channel to the parent, imports the stage module, and
 * runs its function between the channel's input and output, with the protocol of
 * `internal/protocol.ts`.
 *
 * Flow control: the stage's output goes to the parent through one writer whose valve closes
 * while `highWaterMark` frames wait for the kernel; the input is subscribed under that
 * valve, so this process reads from the parent only while its output moves (and a slow
 * parent, or a slow next stage, slows it down). A per-message stage runs at most
 * `concurrency` messages at once (`boundedMergeMap`).
 */
import {
  boundedMergeMap,
  codecs,
  open,
  subscribeWithValve,
  ValveController,
} from '@rxipc/adapters';
import {
  concat,
  EMPTY,
  from,
  isObservable,
  map,
  mergeMap,
  Observable,
  of,
  type Subscription,
} from 'rxjs';

import {
  defineStage,
  isStageDefinition,
  type MessageStageDefinition,
  type StageContext,
  type StageDefinition,
  type StreamStageFunction,
} from './define-stage.js';
import { decodeFrames, FrameWriter } from './internal/frame-writer.js';
import {
  ACK,
  DATA,
  END,
  errorInfo,
  FAIL,
  type FromChild,
  HELLO,
  LAST,
  OUT,
  STAGE_ENV,
  type StageLaunch,
  type ToChild,
} from './internal/protocol.js';
import { dieWithParent } from './parent-death.js';

const launch = JSON.parse(process.env[STAGE_ENV] ?? 'null') as StageLaunch | null;
if (launch === null) {
  process.stderr.write(`stage-child: ${STAGE_ENV} is not set; pipelines start this program\n`);
  process.exit(2);
}
dieWithParent(launch.parentPid);
// The parent does not inherit this variable's meaning: a stage that starts its own pipeline
// must not see it.
delete process.env[STAGE_ENV];

// Raw messages: frames are encoded, and batched, by the FrameWriter and decodeFrames.
const channel = open(launch.uri, { highWaterMark: launch.highWaterMark });
const codec = codecs[launch.codec]!;
let writeFailure: unknown;
const writer = new FrameWriter<FromChild>(channel, codec, launch.batchBytes, (error) => {
  writeFailure ??= error;
});
/** The parent's frames, one by one (a batch is taken apart). */
const input: Observable<ToChild> = channel.pipe(
  mergeMap((bytes) => decodeFrames<ToChild>(codec, bytes)),
);

await main(launch);

async function main(launch: StageLaunch): Promise<void> {
  let definition: StageDefinition;
  try {
    const module = (await import(launch.module)) as { default?: unknown };
    definition = toDefinition(module.default, launch.module);
  } catch (error) {
    await failAndExit(error);
    return;
  }
  const context: StageContext = {
    stage: launch.stage,
    replica: launch.replica,
    replicas: launch.replicas,
    restarts: launch.restarts,
    config: launch.config,
  };
  writer.push([HELLO, { pid: process.pid, kind: definition.kind }]);

  const frames: Observable<FromChild> =
    definition.kind === 'message'
      ? messageFrames(definition, context, launch.window)
      : streamFrames(definition.run, context);
  try {
    await write(frames, launch.highWaterMark);
  } catch (error) {
    await failAndExit(error);
    return;
  }
  // Every frame was accepted by the kernel: say so, end the output, and leave even if the
  // stage left timers behind.
  writer.push([END]);
  await writer.drained();
  if (writeFailure !== undefined) process.exit(1);
  channel.complete();
  await channel.close();
  process.exit(0);
}

function toDefinition(exported: unknown, module: string): StageDefinition {
  if (isStageDefinition(exported)) return exported;
  if (typeof exported === 'function')
    return defineStage(exported as StreamStageFunction<unknown, unknown>);
  throw Object.assign(
    new TypeError(`${module} has no stage as its default export (export default defineStage(...))`),
    { code: 'ERR_RXIPC_STAGE_INVALID' },
  );
}

/** Per-message: each input's outputs, then its acknowledgement (or both in one `LAST`). */
function messageFrames(
  definition: MessageStageDefinition<unknown, unknown>,
  context: StageContext,
  window: number,
): Observable<FromChild> {
  return input.pipe(
    boundedMergeMap(([, seq, value]: ToChild) => runOne(definition, seq, value, context), {
      concurrency: definition.concurrency,
      // A batch from the parent arrives at once: at most `window` messages are in flight.
      bufferSize: window,
    }),
  );
}

function runOne(
  definition: MessageStageDefinition<unknown, unknown>,
  seq: number,
  value: unknown,
  context: StageContext,
): Observable<FromChild> {
  const result = definition.run(value, context);
  if (isObservable(result)) {
    return concat(
      result.pipe(map((output): FromChild => [OUT, seq, output])),
      of<FromChild>([ACK, seq]),
    );
  }
  if (isPromiseLike(result)) {
    return from(result).pipe(map((output): FromChild => last(seq, output)));
  }
  return of(last(seq, result));
}

function last(seq: number, output: unknown): FromChild {
  return output === undefined ? [ACK, seq] : [LAST, seq, output];
}

/** Stream: the function sees the values; each is acknowledged as the function takes it. */
function streamFrames(
  run: (input: Observable<unknown>, context: StageContext) => Observable<unknown>,
  context: StageContext,
): Observable<FromChild> {
  return new Observable<FromChild>((subscriber) => {
    const values = input.pipe(
      map(([kind, seq, value]: ToChild) => {
        if (kind === DATA) subscriber.next([ACK, seq]);
        return value;
      }),
    );
    let output: Observable<unknown>;
    try {
      output = run(values, context) ?? EMPTY;
    } catch (error) {
      subscriber.error(error);
      return;
    }
    return output.subscribe({
      next: (value) => subscriber.next([OUT, -1, value]),
      error: (error: unknown) => subscriber.error(error),
      complete: () => subscriber.complete(),
    });
  });
}

/**
 * Sends every frame (batched by the writer); the valve in force for `frames` (and so for the
 * input channel under it) closes while `highWaterMark` messages wait for the kernel. Nothing
 * is dropped: a stage that ignores the valve only makes the queue longer, up to four times
 * the mark, then an error.
 */
function write(frames: Observable<FromChild>, highWaterMark: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const valve = new ValveController();
    // Filled once subscribe() returns; a synchronous source runs before that.
    const upstream: { subscription?: Subscription } = {};
    let failed = false;
    const fail = (error: unknown): void => {
      if (failed) return;
      failed = true;
      upstream.subscription?.unsubscribe();
      reject(error);
    };
    const subscription = subscribeWithValve(frames, valve, {
      next(frame) {
        if (failed) return;
        if (writeFailure !== undefined) {
          fail(writeFailure);
          return;
        }
        if (channel.pending >= 4 * highWaterMark) {
          fail(
            new Error(
              `the stage produced ${channel.pending} messages the parent has not read; its input ignores demand`,
            ),
          );
          return;
        }
        writer.push(frame);
        if (valve.open && channel.pending >= highWaterMark) {
          valve.close();
          void channel.ready().then(() => valve.reopen());
        }
      },
      error: fail,
      complete() {
        writer
          .drained()
          .then(() => (writeFailure === undefined ? resolve() : fail(writeFailure)), fail);
      },
    });
    upstream.subscription = subscription;
    if (failed) subscription.unsubscribe();
  });
}

async function failAndExit(error: unknown): Promise<void> {
  try {
    writer.push([FAIL, errorInfo(error)]);
    await Promise.race([writer.drained(), new Promise((resolve) => setTimeout(resolve, 1000))]);
  } catch {
    // the parent is gone; the exit status says enough
  }
  const info = errorInfo(error);
  process.stderr.write(`${info.stack ?? `${info.name}: ${info.message}`}\n`);
  process.exit(1);
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
