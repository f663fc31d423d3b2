/**
 * `stage(module, options)`: the description of one pipeline stage, a module run in child
 * processes. Nothing starts until a pipeline that contains the stage is subscribed.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { codecs } from '@rxipc/adapters';

import type { StageDefinition, StageInput, StageOutput } from './define-stage.js';

/** How a crashed replica is replaced. */
export interface RestartPolicy {
  /** Replacements allowed for the whole stage (all replicas together) over the pipeline's run. */
  readonly max: number;
  /**
   * Wait before each replacement: a fixed number of milliseconds, or an exponential backoff
   * per replica (`initialMs`, times `factor` for each further crash of that replica, at most
   * `maxMs`). Default: `{ initialMs: 100, factor: 2, maxMs: 5000 }`.
   */
  readonly backoff?: number | BackoffOptions;
}

/** Exponential backoff, per replica. */
export interface BackoffOptions {
  readonly initialMs?: number;
  readonly factor?: number;
  readonly maxMs?: number;
}

/** Options for {@link stage}. */
export interface StageOptions {
  /** The name used in errors and events. Default: the module's file name, without extension. */
  readonly name?: string;
  /** Processes that share the stage's messages. Default: 1. */
  readonly replicas?: number;
  /**
   * Keep the input order in the output across replicas (a per-message stage only; see the
   * README's "ordered" section). Default: `true` for per-message stages, `false` for stream
   * stages, which can be ordered only with one replica.
   */
  readonly ordered?: boolean;
  /** How messages are encoded between processes: `'v8'` (default) or `'json'`. */
  readonly codec?: 'v8' | 'json';
  /**
   * The transport between the parent and each process: a scheme with a stage link (`'pipe'`,
   * the default; `'unix'`; `'shm'`), optionally with the link's options as a query
   * (`'shm?slots=8&slotSize=1100000'`).
   */
  readonly transport?: string;
  /** Replace crashed replicas. Default: none (a crash fails the pipeline). */
  readonly restart?: RestartPolicy;
  /**
   * Messages sent to one replica and not yet finished (acknowledged) by it. The parent keeps
   * each of them until it is acknowledged, to redeliver it after a crash; with `ordered`, it
   * also keeps the outputs of messages finished ahead of an earlier one. Default: 128.
   */
  readonly window?: number;
  /** Milliseconds between SIGTERM and SIGKILL when the stage is shut down. Default: 2000. */
  readonly gracePeriodMs?: number;
  /** A value given to the stage function as `context.config` (it must survive the codec). */
  readonly config?: unknown;
  /** The children's stdout and stderr: copied to this process's stderr, or only kept for errors. */
  readonly output?: 'forward' | 'capture';
  /** The children's environment. Default: this process's. */
  readonly env?: NodeJS.ProcessEnv;
  /** Extra `node` options for the children (`['--max-old-space-size=512']`, `['--cpu-prof']`). */
  readonly nodeArgs?: readonly string[];
}

/** A stage, as {@link stage} returns it: the module and the resolved options. */
export interface Stage<I = unknown, O = unknown> {
  /** The module to load in the child: a `file:` URL, or a package specifier. */
  readonly module: string;
  readonly name: string;
  readonly replicas: number;
  readonly ordered: boolean | undefined;
  readonly codec: 'v8' | 'json';
  readonly transport: string;
  readonly restart: Required<RestartPolicy> & { readonly backoff: Required<BackoffOptions> };
  readonly window: number;
  readonly gracePeriodMs: number;
  readonly config: unknown;
  readonly output: 'forward' | 'capture';
  readonly env: NodeJS.ProcessEnv | undefined;
  readonly nodeArgs: readonly string[];
  /** Phantom member: the stage's input and output types. */
  readonly __types?: (input: I) => O;
}

/**
 * Describes a stage: `module` is run in child processes (one per replica) by
 * {@link pipeline}. Its default export is a {@link defineStage} definition (a plain function
 * counts as a stream stage).
 *
 * `module` is a `URL` (`new URL('./parse.js', import.meta.url)`), an absolute path, a path
 * relative to the current directory (`./stages/parse.js`), or a package specifier. Give the
 * module's type to get typed input and output: `import type * as Parse from './parse.js'`,
 * then `stage<typeof Parse>(url)`.
 *
 * @example
 * ```ts
 * import type * as Parse from './stages/parse.js';
 * const parse = stage<typeof Parse>(
 *   new URL('./stages/parse.js', import.meta.url),
 *   { replicas: 4, restart: { max: 3, backoff: 100 } },
 * );
 * pipeline(lines$, parse).subscribe(console.log);
 * ```
 * @throws {TypeError} `ERR_INVALID_ARG_VALUE`, at call time, for a bad option (every problem
 * in one message).
 */
export function stage<D = StageDefinition>(
  module: string | URL,
  options: StageOptions = {},
): Stage<StageInput<D>, StageOutput<D>> {
  const problems: string[] = [];
  const integer = (value: number | undefined, name: string, fallback: number, min: number) => {
    if (value === undefined) return fallback;
    if (!Number.isInteger(value) || value < min) {
      problems.push(`${name} must be an integer >= ${min}, got ${String(value)}`);
    }
    return value;
  };
  const replicas = integer(options.replicas, 'replicas', 1, 1);
  const window = integer(options.window, 'window', 128, 1);
  const gracePeriodMs = integer(options.gracePeriodMs, 'gracePeriodMs', 2000, 0);
  const max = integer(options.restart?.max, 'restart.max', 0, 0);
  const backoffOption = options.restart?.backoff;
  const backoff =
    typeof backoffOption === 'number'
      ? { initialMs: backoffOption, factor: 1, maxMs: backoffOption }
      : {
          initialMs: backoffOption?.initialMs ?? 100,
          factor: backoffOption?.factor ?? 2,
          maxMs: backoffOption?.maxMs ?? 5000,
        };
  if (!(backoff.initialMs >= 0 && backoff.factor >= 1 && backoff.maxMs >= backoff.initialMs)) {
    problems.push(
      'restart.backoff must be milliseconds >= 0, or { initialMs >= 0, factor >= 1, maxMs >= initialMs }',
    );
  }
  const codec = options.codec ?? 'v8';
  if (codec !== 'v8' && codec !== 'json') {
    problems.push(`codec must be 'v8' or 'json', got ${JSON.stringify(codec)}`);
  } else if (codecs[codec] === undefined) {
    problems.push(`the codec ${codec} is not available`);
  }
  const transport = options.transport ?? 'pipe';
  if (!/^[a-z][a-z0-9+.-]*(\?.*)?$/.test(transport)) {
    problems.push(
      `transport must be a URI scheme such as 'pipe', with options as a query, got ${JSON.stringify(transport)}`,
    );
  }
  const output = options.output ?? 'forward';
  if (output !== 'forward' && output !== 'capture') {
    problems.push(`output must be 'forward' or 'capture', got ${JSON.stringify(output)}`);
  }
  let resolved = '';
  if (module instanceof URL) resolved = module.href;
  else if (typeof module !== 'string' || module === '') {
    problems.push('the module must be a URL, a path or a package specifier');
  } else if (/^[a-z][a-z0-9+.-]*:/i.test(module)) resolved = module;
  else if (module.startsWith('/') || module.startsWith('.')) {
    resolved = pathToFileURL(path.resolve(module)).href;
  } else resolved = module;
  if (problems.length > 0) {
    throw Object.assign(new TypeError(`stage ${String(module)}: ${problems.join('; ')}`), {
      code: 'ERR_INVALID_ARG_VALUE',
    });
  }
  const name =
    options.name ?? (path.basename(resolved.split(/[?#]/)[0]!).replace(/\.[^.]*$/, '') || resolved);
  return {
    module: resolved,
    name,
    replicas,
    ordered: options.ordered,
    codec,
    transport,
    restart: { max, backoff },
    window,
    gracePeriodMs,
    config: options.config,
    output,
    env: options.env,
    nodeArgs: [...(options.nodeArgs ?? [])],
  };
}
