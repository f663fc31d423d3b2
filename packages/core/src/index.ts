/**
 * @rxipc/core: processes and pipelines over rxipc channels, and the `rxipc` command.
 */
export { runDemo, type DemoResult, type DemoSample } from './demo/run-demo.js';
export { runCommand } from './cli/commands.js';
