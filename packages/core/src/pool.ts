/**
 * The parent's side of one stage: a pool of replica processes, as an RxJS operator. It deals
 * the input out to the replicas, gathers their outputs (in input order when the stage is
 * ordered), keeps what it needs to redeliver, and replaces crashed replicas by the stage's
 * restart policy.
 *
 * Buffers, all bounded:
 * - in flight: per replica at most `window` messages sent and not yet acknowledged (kept for
 *   redelivery); with `ordered`, messages from the oldest unreleased one to the newest sent
 *   span at most `window x replicas` sequence numbers;
 * - held outputs: the outputs of per-message inputs not yet acknowledged, or acknowledged
 *   ahead of an earlier input (`ordered`); at most `HELD_LIMIT_FACTOR x window x replicas`,
 *   past which the stage fails with `ERR_RXIPC_OVERFLOW` (a per-message function that
 *   expands one message into very many outputs should be a stream stage);
 * - to send: messages waiting for a replica with room (redeliveries first), at most
 *   `window x replicas`; a source that ignores the valve past that gets `ERR_RXIPC_OVERFLOW`;
 * - out: outputs released while the consumer has no demand; at most `window` from each replica
 *   (a replica is not read while it has that many waiting; each replica has its own valve, so
 *   that one replica cannot starve another).
 */
import {
  type Channel,
  type Codec,
  codecs,
  OverflowError,
  subscribeWithValve,
  type Valve,
  ValveController,
  currentValve,
} from '@rxipc/adapters';
import { Observable, type OperatorFunction, type Subscriber, type Subscription } from 'rxjs';

import {
  ACK,
  DATA,
  END,
  type ErrorInfo,
  FAIL,
  type FromChild,
  HELLO,
  LAST,
  OUT,
  STAGE_ENV,
  type StageLaunch,
  type ToChild,
} from './internal/protocol.js';
import { decodeFrames, FrameWriter } from './internal/frame-writer.js';
import { isTypeScript, nodeCommand } from './internal/node-command.js';
import { ALWAYS_OPEN } from './internal/valves.js';
import type { PipelineEvent } from './pipeline-event.js';
import { describeExit, StageError, type StageErrorCode } from './stage-error.js';
import { stageLink, type StageLinkConnection } from './stage-link.js';
import type { Stage } from './stage.js';
import { type ExitStatus, type SupervisedChild, superviseChild } from './supervisor.js';

const HELD_LIMIT_FACTOR = 16;
const DEFAULT_BATCH_BYTES = 256 * 1024;

type Seq = number;

interface Replica {
  readonly slot: number;
  readonly restarts: number;
  readonly child: SupervisedChild;
  readonly link: StageLinkConnection;
  channel: Channel<Uint8Array> | undefined;
  /** Batches and encodes what goes to the process (once the channel is there). */
  writer: FrameWriter<ToChild> | undefined;
  subscription: Subscription | undefined;
  ready: boolean;
  inputEnded: boolean;
  /** The END frame arrived: the stage function's output completed. */
  sawEnd: boolean;
  /** The channel ended (end of stream, or an error). */
  channelEnd: { error?: unknown } | undefined;
  exit: ExitStatus | undefined;
  failure: { code: StageErrorCode; reason: string; cause?: unknown } | undefined;
  readonly inflight: Map<Seq, unknown>;
  readonly held: Map<Seq, unknown[]>;
  /**
   * Open while fewer than `window` of this replica's outputs wait in `out`. Each replica has
   * its own valve, so that one busy replica cannot starve the others of the consumer's demand.
   */
  readonly valve: ValveController;
  /** This replica's outputs in `out`. */
  queued: number;
  /**
   * Set when its window filled; it gets no more messages until half of them are finished, so
   * that messages go out in batches (one write for many) rather than one write per ack.
   */
  refilling: boolean;
  state: 'running' | 'done' | 'dead';
}

/**
 * Runs `spec` as an operator: subscribing starts the replicas, and the output is theirs.
 * `emit` receives the stage's events.
 *
 * Completion: when the input completes and every replica has finished its output, the
 * output completes; a stream stage whose every replica ends early ends the stage early (its
 * input is unsubscribed). Errors: a crash beyond the restart policy, or a failure of the
 * stage function, errors the output with a {@link StageError}; the input's error passes
 * through. Unsubscribing stops the replicas (SIGTERM, then SIGKILL after `gracePeriodMs`).
 *
 * Backpressure: the input is read only while a replica has room in its window, and the
 * replicas only while the consumer's valve (see `subscribeWithValve`) is open.
 */
export function stagePool<I, O>(
  spec: Stage<I, O>,
  stageIndex: number,
  emit: (event: PipelineEvent) => void,
): OperatorFunction<I, O> {
  return (upstream) =>
    new Observable<O>((subscriber) => {
      const pool = new StagePool<I, O>(spec, stageIndex, emit, subscriber, currentValve());
      pool.start(upstream);
      return () => pool.stop();
    });
}

class StagePool<I, O> {
  private readonly replicas: (Replica | undefined)[];
  private readonly upValve = new ValveController();
  private readonly downstream: Valve;
  private upstreamSubscription: Subscription | undefined;
  private upstreamDone = false;
  private nextSeq = 0;
  private readonly toSend: [Seq, unknown][] = [];
  /** Released outputs waiting for the consumer's demand, and the replica each came from. */
  private readonly out: O[] = [];
  private readonly outFrom: Replica[] = [];
  private outHead = 0;
  private draining = false;
  private kind: 'stream' | 'message' | undefined;
  private ordered = false;
  private releaseSeq = 0;
  private readonly committed = new Map<Seq, { from: Replica; outputs: unknown[] }>();
  private heldCount = 0;
  private readonly codec: Codec<unknown>;
  private restartsUsed = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private finished = false;
  private stopListeningDownstream: () => void = () => {};

  constructor(
    private readonly spec: Stage<I, O>,
    private readonly stageIndex: number,
    private readonly emit: (event: PipelineEvent) => void,
    private readonly subscriber: Subscriber<O>,
    downstream: Valve | undefined,
  ) {
    this.replicas = new Array<Replica | undefined>(spec.replicas).fill(undefined);
    this.codec = codecs[spec.codec]!;
    this.downstream = downstream ?? ALWAYS_OPEN;
  }

  private get windowTotal(): number {
    return this.spec.window * this.spec.replicas;
  }

  start(upstream: Observable<I>): void {
    this.stopListeningDownstream = this.downstream.onOpen(() => this.drain());
    try {
      for (let slot = 0; slot < this.spec.replicas; slot++) this.spawn(slot, 0);
    } catch (error) {
      this.fail(error);
      return;
    }
    this.upValve.close(); // opens once a replica says hello
    const subscription = subscribeWithValve(upstream, this.upValve, {
      next: (value) => this.onInput(value),
      error: (error: unknown) => this.fail(error),
      complete: () => {
        this.upstreamDone = true;
        this.pump();
      },
    });
    if (this.finished) subscription.unsubscribe();
    else this.upstreamSubscription = subscription;
  }

  stop(): void {
    this.finished = true;
    this.teardown();
  }

  // ---- replicas --------------------------------------------------------------------------

  private spawn(slot: number, restarts: number): void {
    const spec = this.spec;
    const link = stageLink(spec.transport).connect({
      highWaterMark: 64,
      label: `${spec.name}-${slot}`,
      options: new URLSearchParams(spec.transport.split('?')[1] ?? ''),
    });
    const launch: StageLaunch = {
      module: spec.module,
      stage: spec.name,
      replica: slot,
      replicas: spec.replicas,
      restarts,
      codec: spec.codec,
      uri: link.childUri,
      parentPid: process.pid,
      highWaterMark: 64,
      window: spec.window,
      batchBytes: link.maxBatchBytes ?? DEFAULT_BATCH_BYTES,
      config: spec.config,
    };
    let child: SupervisedChild | undefined;
    try {
      const { command, args } = nodeCommand('stage-child', {
        typescript: isTypeScript(spec.module),
      });
      child = superviseChild(command, [...spec.nodeArgs, ...args], {
        env: { ...(spec.env ?? process.env), [STAGE_ENV]: JSON.stringify(launch) },
        extraStdio: [...link.inherit],
        output: spec.output,
      });
    } catch (error) {
      void link.dispose();
      throw error;
    } finally {
      link.afterSpawn(child?.pid);
    }
    const replica: Replica = {
      slot,
      restarts,
      child,
      link,
      channel: undefined,
      writer: undefined,
      subscription: undefined,
      ready: false,
      inputEnded: false,
      sawEnd: false,
      channelEnd: undefined,
      exit: undefined,
      failure: undefined,
      inflight: new Map(),
      held: new Map(),
      valve: new ValveController(),
      queued: 0,
      refilling: false,
      state: 'running',
    };
    this.replicas[slot] = replica;
    this.emit({ ...this.where(replica), type: 'spawn', restarts });

    void child.exited.then((exit) => {
      replica.exit = exit;
      this.emit({ ...this.where(replica), type: 'exit', status: exit });
      if (replica.channel === undefined) replica.channelEnd ??= {};
      this.settle(replica);
    });
    link.channel.then(
      (channel) => this.attach(replica, channel, launch.batchBytes),
      (error: unknown) => {
        replica.channelEnd = { error };
        this.settle(replica);
      },
    );
  }

  private attach(replica: Replica, channel: Channel<Uint8Array>, batchBytes: number): void {
    if (replica.state !== 'running' || this.finished) {
      void channel.close();
      return;
    }
    replica.channel = channel;
    replica.writer = new FrameWriter<ToChild>(channel, this.codec, batchBytes, (error) => {
      // A value the codec cannot carry fails the pipeline; a broken channel is the process's
      // end, which settle() handles.
      const code = (error as { code?: string }).code;
      if (code === 'ERR_RXIPC_ENCODE' || code === 'ERR_RXIPC_FRAME_TOO_LARGE') this.fail(error);
    });
    replica.subscription = subscribeWithValve(channel, replica.valve, {
      next: (bytes) => this.onMessage(replica, bytes),
      error: (error: unknown) => {
        replica.channelEnd = { error };
        // A broken channel: the process cannot be talked to any more.
        void replica.child.terminate(0);
        this.settle(replica);
      },
      complete: () => {
        replica.channelEnd = {};
        this.settle(replica);
      },
    });
  }

  private onMessage(replica: Replica, bytes: Uint8Array): void {
    let frames: FromChild[];
    try {
      frames = decodeFrames<FromChild>(this.codec, bytes);
    } catch (error) {
      if (replica.failure === undefined) {
        replica.failure = {
          code: 'ERR_RXIPC_STAGE_INVALID',
          reason: `sent a message rxipc cannot decode (${(error as Error).message})`,
        };
      }
      void replica.child.terminate(0);
      return;
    }
    for (const frame of frames) this.onFrame(replica, frame);
  }

  private onFrame(replica: Replica, frame: FromChild): void {
    if (this.finished || replica.state !== 'running') return;
    switch (frame[0]) {
      case HELLO:
        this.onHello(replica, frame[1].kind);
        return;
      case OUT:
        if (frame[1] === -1) this.pushOut(frame[2] as O, replica);
        else this.hold(replica, frame[1], frame[2]);
        return;
      case LAST:
        if (this.hold(replica, frame[1], frame[2])) this.commit(replica, frame[1]);
        return;
      case ACK:
        this.commit(replica, frame[1]);
        return;
      case END:
        replica.sawEnd = true;
        return;
      case FAIL:
        replica.failure = {
          code: 'ERR_RXIPC_STAGE_FAILED',
          reason: `failed: ${frame[1].message}`,
          cause: toError(frame[1]),
        };
        // The process exits by itself; the failure is reported once it has.
        return;
      default:
        replica.failure = {
          code: 'ERR_RXIPC_STAGE_INVALID',
          reason: `sent a frame rxipc does not know (${String((frame as unknown[])[0])})`,
        };
        void replica.child.terminate(0);
    }
  }

  private onHello(replica: Replica, kind: 'stream' | 'message'): void {
    if (this.kind === undefined) {
      this.kind = kind;
      this.ordered = this.spec.ordered ?? kind === 'message';
      if (this.ordered && kind === 'stream' && this.spec.replicas > 1) {
        this.fail(
          new StageError({
            code: 'ERR_RXIPC_STAGE_INVALID',
            stage: this.spec.name,
            replica: replica.slot,
            replicas: this.spec.replicas,
            pid: replica.child.pid,
            reason:
              'is a stream stage, which cannot be ordered across replicas: use defineStage({ map }) or ordered: false',
            stderr: '',
          }),
        );
        return;
      }
    }
    replica.ready = true;
    this.pump();
  }

  /** A replica's process exited or its channel ended: once both have, judge how it went. */
  private settle(replica: Replica): void {
    if (replica.state !== 'running') return;
    if (replica.exit === undefined || replica.channelEnd === undefined) return;
    replica.subscription?.unsubscribe();
    void replica.channel?.close();
    void replica.link.dispose();
    if (this.finished) {
      replica.state = 'dead';
      return;
    }
    const clean =
      replica.failure === undefined &&
      replica.exit.code === 0 &&
      replica.sawEnd &&
      !('error' in replica.channelEnd) &&
      (this.kind === 'stream' || replica.inflight.size === 0);
    if (clean) {
      replica.state = 'done';
      // A stream stage that ended early drops what it had not taken.
      replica.inflight.clear();
      this.pump();
      this.checkComplete();
      return;
    }
    replica.state = 'dead';
    this.crash(replica);
  }

  private crash(replica: Replica): void {
    const exit = replica.exit!;
    const failure = replica.failure;
    const channelError =
      replica.channelEnd !== undefined && 'error' in replica.channelEnd
        ? replica.channelEnd.error
        : undefined;
    let reason = failure?.reason ?? describeExit(exit);
    if (failure === undefined && exit.code === 0) {
      reason = replica.sawEnd
        ? `exited with code 0 before finishing ${replica.inflight.size} message(s)`
        : 'exited with code 0 before its output ended';
    }
    if (channelError !== undefined && failure === undefined) {
      reason += ` (channel: ${(channelError as Error).message ?? String(channelError)})`;
    }
    const restartable = failure === undefined || failure.code === 'ERR_RXIPC_STAGE_CRASHED';
    const restarting = restartable && this.restartsUsed < this.spec.restart.max;
    const error = new StageError({
      code: failure?.code ?? 'ERR_RXIPC_STAGE_CRASHED',
      stage: this.spec.name,
      replica: replica.slot,
      replicas: this.spec.replicas,
      pid: replica.child.pid,
      exit,
      reason,
      stderr: replica.child.tail(),
      restarts: { used: this.restartsUsed, max: this.spec.restart.max },
      cause: failure?.cause ?? channelError,
    });

    // At-least-once: what it had not acknowledged goes out again, oldest first, before
    // anything new. Outputs it sent for those messages were held, and are dropped.
    const redeliver = [...replica.inflight.entries()].sort((a, b) => a[0] - b[0]);
    for (const outputs of replica.held.values()) this.heldCount -= outputs.length;
    replica.held.clear();
    replica.inflight.clear();
    const delayMs = this.backoff(replica.restarts);
    this.emit({
      ...this.where(replica),
      type: 'crash',
      error,
      restarting,
      delayMs: restarting ? delayMs : 0,
      redelivered: restarting ? redeliver.length : 0,
    });
    if (!restarting) {
      this.fail(error);
      return;
    }
    this.restartsUsed++;
    this.toSend.unshift(...redeliver);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.finished) return;
      try {
        this.spawn(replica.slot, replica.restarts + 1);
      } catch (spawnError) {
        this.fail(spawnError);
      }
    }, delayMs);
    this.timers.add(timer);
    this.pump();
  }

  private backoff(restarts: number): number {
    const { initialMs, factor, maxMs } = this.spec.restart.backoff;
    return Math.min(maxMs, initialMs * factor ** restarts);
  }

  // ---- input -----------------------------------------------------------------------------

  private onInput(value: I): void {
    if (this.finished) return;
    if (this.toSend.length >= this.windowTotal) {
      this.fail(
        new OverflowError(
          `stage ${this.spec.name}: ${this.toSend.length} messages wait for a replica; the source does not honour demand (use an rxipc source, an iterable, or a larger window)`,
        ),
      );
      return;
    }
    this.toSend.push([this.nextSeq++, value]);
    this.pump();
  }

  /** Sends what waits to replicas with room, ends inputs when everything is sent, sets the valve. */
  private pump(): void {
    if (this.finished) return;
    while (this.toSend.length > 0) {
      const replica = this.pickReplica();
      if (replica === undefined) break;
      const [seq, value] = this.toSend.shift()!;
      this.send(replica, seq, value);
    }
    if (this.upstreamDone && this.toSend.length === 0) {
      for (const replica of this.replicas) {
        if (replica?.state === 'running' && replica.ready && !replica.inputEnded) {
          replica.inputEnded = true;
          replica.writer?.flush();
          replica.channel?.complete();
        }
      }
    }
    const roomInWindow = !this.ordered || this.nextSeq - this.releaseSeq < this.windowTotal;
    if (
      !this.upstreamDone &&
      this.toSend.length === 0 &&
      roomInWindow &&
      this.pickReplica() !== undefined
    ) {
      this.upValve.reopen();
    } else {
      this.upValve.close();
    }
    this.checkComplete();
  }

  /** The ready replica with the fewest messages in flight and room for one more. */
  private pickReplica(): Replica | undefined {
    let best: Replica | undefined;
    for (const replica of this.replicas) {
      if (
        replica === undefined ||
        replica.state !== 'running' ||
        !replica.ready ||
        replica.inputEnded ||
        replica.writer === undefined ||
        replica.inflight.size >= this.spec.window ||
        replica.refilling
      ) {
        continue;
      }
      if (best === undefined || replica.inflight.size < best.inflight.size) best = replica;
    }
    return best;
  }

  private send(replica: Replica, seq: Seq, value: unknown): void {
    replica.inflight.set(seq, value);
    if (replica.inflight.size >= this.spec.window) replica.refilling = true;
    replica.writer!.push([DATA, seq, value]);
  }

  // ---- output ----------------------------------------------------------------------------

  /** Keeps an output of a per-message input until the input is acknowledged. */
  private hold(replica: Replica, seq: Seq, value: unknown): boolean {
    if (!replica.inflight.has(seq)) return false;
    let outputs = replica.held.get(seq);
    if (outputs === undefined) replica.held.set(seq, (outputs = []));
    outputs.push(value);
    this.heldCount++;
    if (this.heldCount > HELD_LIMIT_FACTOR * this.windowTotal) {
      this.fail(
        new OverflowError(
          `stage ${this.spec.name}: ${this.heldCount} outputs of unfinished messages are held; a per-message stage that expands one message into many outputs should be a stream stage`,
        ),
      );
      return false;
    }
    return true;
  }

  private commit(replica: Replica, seq: Seq): void {
    if (!replica.inflight.delete(seq)) return;
    if (replica.inflight.size <= this.spec.window >> 1) replica.refilling = false;
    const outputs = replica.held.get(seq) ?? [];
    replica.held.delete(seq);
    this.heldCount -= outputs.length;
    if (this.kind === 'message') {
      if (!this.ordered) {
        for (const output of outputs) this.pushOut(output as O, replica);
      } else {
        this.committed.set(seq, { from: replica, outputs });
        this.heldCount += outputs.length;
        for (let ready = this.committed.get(this.releaseSeq); ready !== undefined;) {
          this.committed.delete(this.releaseSeq);
          this.heldCount -= ready.outputs.length;
          this.releaseSeq++;
          for (const output of ready.outputs) this.pushOut(output as O, ready.from);
          ready = this.committed.get(this.releaseSeq);
        }
      }
    }
    this.pump();
  }

  private pushOut(value: O, from: Replica): void {
    this.out.push(value);
    this.outFrom.push(from);
    if (++from.queued >= this.spec.window) from.valve.close();
    this.drain();
  }

  /** Emits released outputs while the consumer has demand. */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (
        this.outHead < this.out.length &&
        this.downstream.open &&
        !this.subscriber.closed &&
        !this.finished
      ) {
        const value = this.out[this.outHead]!;
        const from = this.outFrom[this.outHead]!;
        this.out[this.outHead] = undefined as never;
        this.outFrom[this.outHead++] = undefined as never;
        if (--from.queued < this.spec.window) from.valve.reopen();
        this.subscriber.next(value);
      }
      if (this.outHead === this.out.length) {
        this.out.length = 0;
        this.outFrom.length = 0;
        this.outHead = 0;
      } else if (this.outHead > 1024 && this.outHead * 2 > this.out.length) {
        this.out.splice(0, this.outHead);
        this.outFrom.splice(0, this.outHead);
        this.outHead = 0;
      }
    } finally {
      this.draining = false;
    }
    this.checkComplete();
  }

  private checkComplete(): void {
    if (this.finished || this.outHead < this.out.length) return;
    if (!this.replicas.every((replica) => replica?.state === 'done')) return;
    this.finished = true;
    this.teardown();
    this.subscriber.complete();
  }

  // ---- the end ---------------------------------------------------------------------------

  private fail(error: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.teardown();
    this.subscriber.error(error);
  }

  private teardown(): void {
    this.stopListeningDownstream();
    this.upstreamSubscription?.unsubscribe();
    this.upstreamSubscription = undefined;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const replica of this.replicas) {
      if (replica === undefined) continue;
      replica.subscription?.unsubscribe();
      void replica.channel?.close();
      if (replica.child.status === undefined) {
        void replica.child.terminate(this.spec.gracePeriodMs);
      }
      void replica.link.dispose();
    }
  }

  private where(replica: Replica) {
    return {
      stage: this.spec.name,
      stageIndex: this.stageIndex,
      replica: replica.slot,
      pid: replica.child.pid,
    };
  }
}

function toError(info: ErrorInfo): Error {
  const error = new Error(info.message);
  error.name = info.name;
  if (info.stack !== undefined) error.stack = info.stack;
  if (info.code !== undefined) Object.assign(error, { code: info.code });
  return error;
}
