import { cleanOrphans } from '../janitor.js';
import { type Command, parseCommandArgs } from './commands.js';

/** `rxipc clean [--dry-run] [--json]`: removes the named objects of dead owners. */
export const clean: Command = {
  summary: 'remove the named objects left behind by dead processes',
  usage: `usage: rxipc clean [--dry-run] [--json]

Removes every named kernel object recorded by an rxipc process that is no longer running
(killed with SIGKILL, or crashed past its exit handlers), and forgets its record. Objects of
live processes are never touched (the owner is recognised by pid and start time, so a
recycled pid does not count). Exits 1 if an orphan could not be removed (for example EPERM).
  --dry-run    say what would be removed, remove nothing
  --json       print the report as JSON`,
  async run(args) {
    const { values } = parseCommandArgs('clean', {
      args,
      options: {
        'dry-run': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
    });
    const dryRun = values['dry-run'] === true;
    const report = cleanOrphans({ dryRun });
    if (values.json === true) {
      process.stdout.write(`${JSON.stringify({ dryRun, ...report }, null, 2)}\n`);
    } else {
      const verb = dryRun ? 'would remove' : 'removed';
      for (const o of report.removed)
        process.stdout.write(`${verb} ${o.kind} ${o.name} (pid ${o.pid})\n`);
      for (const o of report.forgotten) {
        process.stdout.write(`forgot ${o.kind} ${o.name} (pid ${o.pid}): it was gone already\n`);
      }
      for (const { entry, reason } of report.kept) {
        process.stdout.write(`kept ${entry.kind} ${entry.name} (pid ${entry.pid}): ${reason}\n`);
      }
      const total = report.removed.length + report.forgotten.length;
      process.stdout.write(
        `${dryRun ? 'would clean' : 'cleaned'} ${total} orphaned object(s); ${report.alive} belong to live processes\n`,
      );
    }
    return report.kept.length > 0 ? 1 : 0;
  },
};
