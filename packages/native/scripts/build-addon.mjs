// Builds the addon with node-gyp against the headers of the node that runs this script,
// so the build works offline (TOOLCHAIN.md, pitfall 1).
// --if-stale: skip when build/Release/rxipc.node is newer than every source file.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const output = path.join(root, 'build', 'Release', 'rxipc.node');

function isStale() {
  if (!existsSync(output)) return true;
  const built = statSync(output).mtimeMs;
  const sources = [
    'binding.gyp',
    ...readdirSync(path.join(root, 'src')).map((f) => path.join('src', f)),
  ];
  return sources.some((file) => statSync(path.join(root, file)).mtimeMs > built);
}

if (process.argv.includes('--if-stale') && !isStale()) process.exit(0);

const nodedir = path.resolve(process.execPath, '..', '..');
const nodeGyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
const jobs = String(Math.max(1, (await import('node:os')).availableParallelism()));
const result = spawnSync(
  process.execPath,
  [nodeGyp, 'rebuild', `--nodedir=${nodedir}`, `--jobs=${jobs}`],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
