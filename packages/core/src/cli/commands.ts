import { parseArgs } from 'node:util';

import { bench } from './bench-command.js';
import { clean } from './clean-command.js';
import { demo } from './demo-command.js';
import { ls } from './ls-command.js';
import { send } from './send-command.js';
import { tap } from './tap-command.js';

/** A subcommand: its one-line summary, usage text, and what it does (returns the exit code). */
export interface Command {
  readonly summary: string;
  readonly usage: string;
  run(args: string[]): Promise<number>;
}

const commands: Record<string, Command> = { tap, send, demo, bench, ls, clean };

const HELP = `rxipc: every Unix IPC mechanism as an RxJS stream

usage: rxipc <command> [options]

${Object.entries(commands)
  .map(([name, command]) => `  ${name.padEnd(8)}${command.summary}`)
  .join('\n')}

'rxipc <command> --help' tells more.`;

/** Runs `rxipc <args>`; resolves with the exit code. */
export async function runCommand(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${HELP}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (command === undefined)
    throw new Error(`unknown command ${JSON.stringify(name)}; try rxipc --help`);
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  return command.run(rest);
}

/** `parseArgs` that turns its errors into one-line messages naming the command. */
export function parseCommandArgs<T extends Parameters<typeof parseArgs>[0]>(
  command: string,
  config: T,
) {
  try {
    return parseArgs(config);
  } catch (error) {
    throw new Error(`${command}: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  }
}
