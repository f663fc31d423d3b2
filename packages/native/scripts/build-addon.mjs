// Builds the addon with node-gyp against the headers of the node that runs this script, so
// the build works offline (TOOLCHAIN.md, pitfall 1). Incremental (`configure` + `build`, not
// `rebuild`), and serialized by a lock directory, so two builds at once (parallel sessions,
// `pnpm install` during a test run) never delete each other's output.
// --if-stale: skip when build/Release/rxipc.node is newer than every source file.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const output = path.join(root, 'build', 'Release', 'rxipc.node');
const lock = path.join(root, '.build-lock');

function sources() {
  return [
    'binding.gyp',
    ...readdirSync(path.join(root, 'src'))
      .filter((f) => /\.(cc|h)$/.test(f))
      .map((f) => path.join('src', f)),
  ];
}

function isStale() {
  if (!existsSync(output)) return true;
  const built = statSync(output).mtimeMs;
  return sources().some((file) => statSync(path.join(root, file)).mtimeMs > built);
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function acquireLock() {
  const deadline = Date.now() + 10 * 60 * 1000;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(path.join(lock, 'pid'), String(process.pid));
      return;
    } catch {
      let owner = 0;
      try {
        owner = Number(readFileSync(path.join(lock, 'pid'), 'utf8'));
      } catch {
        // being created or removed right now
      }
      if (owner > 0 && !alive(owner)) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`build-addon: ${lock} is held by pid ${owner}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

if (process.argv.includes('--if-stale') && !isStale()) process.exit(0);

await acquireLock();
let status;
try {
  const nodedir = path.resolve(process.execPath, '..', '..');
  const nodeGyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  const run = (args) =>
    spawnSync(process.execPath, [nodeGyp, ...args, `--nodedir=${nodedir}`], {
      cwd: root,
      stdio: 'inherit',
    }).status ?? 1;
  // Configure each time: the source list is read from src/ at configure time.
  status = run(['configure']);
  if (status === 0) status = run(['build', `--jobs=${availableParallelism()}`]);
} finally {
  rmSync(lock, { recursive: true, force: true });
}
process.exit(status);
