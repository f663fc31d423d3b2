import { namedObjects, type NamedObjectView } from '../janitor.js';
import { type Command, parseCommandArgs } from './commands.js';

/** `rxipc ls [--json] [--orphaned]`: every named object rxipc created, and who owns it. */
export const ls: Command = {
  summary: 'list the named objects rxipc created, their owners, alive or orphaned',
  usage: `usage: rxipc ls [--json] [--orphaned]

Lists every named kernel object that rxipc processes created and have not removed (FIFOs,
socket files, POSIX queues, semaphores and shared memory, System V queues, semaphore sets
and segments): kind, name, mode, owner pid, whether the owner is alive or the object is
orphaned (its owner died: 'rxipc clean' removes it), and whether the object still exists.
The registry lives in $RXIPC_REGISTRY_DIR, else $XDG_RUNTIME_DIR/rxipc, else /tmp/rxipc-<uid>.
  --json       one JSON array instead of the table
  --orphaned   only objects whose owner is dead`,
  async run(args) {
    const { values } = parseCommandArgs('ls', {
      args,
      options: {
        json: { type: 'boolean', default: false },
        orphaned: { type: 'boolean', default: false },
      },
    });
    let objects = namedObjects();
    if (values.orphaned === true) objects = objects.filter((o) => o.state === 'orphaned');
    if (values.json === true) {
      process.stdout.write(`${JSON.stringify(objects.map(toJson), null, 2)}\n`);
      return 0;
    }
    if (objects.length === 0) {
      process.stdout.write('no named objects\n');
      return 0;
    }
    process.stdout.write(`${formatObjects(objects)}\n`);
    return 0;
  },
};

function toJson(o: NamedObjectView) {
  return {
    kind: o.kind,
    name: o.name,
    mode: o.mode ?? null,
    pid: o.pid,
    state: o.state,
    exists: o.exists ?? null,
    createdAt: o.createdAt,
  };
}

/** The table `rxipc ls` prints: one row per object, columns padded. */
export function formatObjects(objects: readonly NamedObjectView[]): string {
  const header = ['KIND', 'NAME', 'MODE', 'OWNER', 'STATE', 'EXISTS', 'CREATED'];
  const rows = objects.map((o) => [
    o.kind,
    o.name,
    o.mode ?? '-',
    String(o.pid),
    o.state,
    o.exists === undefined ? '?' : o.exists ? 'yes' : 'no',
    o.createdAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows]
    .map((cells) =>
      cells
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
