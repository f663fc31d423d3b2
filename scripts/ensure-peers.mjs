// Makes sure the real peers the test suite talks to are installed: socat, a C compiler,
// python3, and util-linux's flock/ipcs/ipcrm/taskset, plus coreutils' mkfifo. On Debian as
// root, missing ones are installed with apt-get (so `pnpm test` works on a machine that had
// only Node and npm); elsewhere this names what to install and fails.
import { spawnSync } from 'node:child_process';

const peers = {
  socat: 'socat',
  cc: 'gcc libc6-dev',
  python3: 'python3',
  flock: 'util-linux',
  ipcs: 'util-linux',
  ipcrm: 'util-linux',
  taskset: 'util-linux',
  mkfifo: 'coreutils',
};

const has = (tool) =>
  spawnSync('/bin/sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
const missing = Object.keys(peers).filter((tool) => !has(tool));
if (missing.length === 0) process.exit(0);

const packages = [...new Set(missing.flatMap((tool) => peers[tool].split(' ')))];
const root = process.getuid?.() === 0;
if (!root || !has('apt-get')) {
  console.error(
    `The tests talk to real peers that are missing here: ${missing.join(', ')}.\n` +
      `Install them (Debian: apt-get install ${packages.join(' ')}) and run again.`,
  );
  process.exit(1);
}
console.error(`installing the test peers: apt-get install ${packages.join(' ')}`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
for (const args of [
  ['update', '-qq'],
  ['install', '-y', '-qq', ...packages],
]) {
  const result = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
  if (result.status !== 0) {
    console.error(`apt-get ${args.join(' ')} failed (exit ${result.status})`);
    process.exit(1);
  }
}
