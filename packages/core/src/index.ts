/**
 * @rxipc/core: processes and pipelines over rxipc channels, and the `rxipc` command.
 */
export {
  defineStage,
  isStageDefinition,
  type MessageStageDefinition,
  type MessageStageFunction,
  type MessageStageOptions,
  type StageContext,
  type StageDefinition,
  type StageInput,
  type StageOutput,
  type StreamStageDefinition,
  type StreamStageFunction,
} from './define-stage.js';
export {
  cleanOrphans,
  namedObjects,
  runJanitorOnce,
  type CleanReport,
  type NamedObjectView,
} from './janitor.js';
export { dieWithParent } from './parent-death.js';
export type { CrashEvent, ExitEvent, PipelineEvent, SpawnEvent } from './pipeline-event.js';
export { connect, type ConnectOptions } from './connect.js';
export { pipeline, type Pipeline, type PipelineSource, type PipelineStep } from './pipeline.js';
export { serve, type ServeHandler, type ServeOptions } from './serve.js';
export {
  describeExit,
  StageError,
  type StageErrorCode,
  type StageErrorDetails,
} from './stage-error.js';
export {
  pipeStageLink,
  registerStageLink,
  stageLink,
  type StageLinkConnection,
  type StageLinkFactory,
  type StageLinkRequest,
} from './stage-link.js';
export {
  stage,
  type BackoffOptions,
  type RestartPolicy,
  type Stage,
  type StageOptions,
} from './stage.js';
export {
  superviseChild,
  supervisedPids,
  type ExitStatus,
  type SupervisedChild,
  type SuperviseOptions,
} from './supervisor.js';
export { runDemo, type DemoResult, type DemoSample } from './demo/run-demo.js';
export { runCommand } from './cli/commands.js';
