#!/usr/bin/env node
/**
 * The `rxipc` command: `tap`, `send`, `demo`, `bench`, `ls`, `clean`. Errors are one line on
 * stderr and a non-zero exit, never a stack trace (set RXIPC_DEBUG=1 for one).
 */
import { runCommand } from './commands.js';

runCommand(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const err = error as { message?: string; code?: string; stack?: string };
    // One line: a stage's error carries its stderr tail on the lines after the first.
    process.stderr.write(`rxipc: ${(err.message ?? String(error)).split('\n')[0]}\n`);
    if (process.env['RXIPC_DEBUG'] === '1' && err.stack !== undefined)
      process.stderr.write(`${err.stack}\n`);
    process.exitCode = 1;
  },
);
