/**
 * Compiling the C baselines in `packages/core/bench-c/`. Internal to the bench.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, constants, mkdir, readdir, readFile, rename } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The same directory from `src/bench/` and from `dist/bench/`. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SOURCE_DIR = path.join(PACKAGE_ROOT, 'bench-c');
const FLAGS = ['-O2', '-Wall', '-Wextra'];

/** The C compiler's first `--version` line (for the report), and where it is. */
export async function cCompiler(): Promise<{ command: string; version: string }> {
  const command = process.env['CC'] ?? 'cc';
  try {
    const { stdout } = await run(command, ['--version']);
    return { command, version: stdout.split('\n')[0]!.trim() };
  } catch (error) {
    throw new Error(
      `the bench compiles its C baselines and needs a C compiler: ${command} --version failed (${(error as Error).message}); install one (apt-get install gcc) or set CC`,
      { cause: error },
    );
  }
}

/**
 * Compiles `bench-c/<file>` with `cc -O2` into a cache (`node_modules/.cache/rxipc-bench`
 * in this package, or the system's temporary directory) and returns the executable's path.
 * The cache key is the source, the shared headers (`bench-c/*.h`), the other sources it
 * includes (`stream-socket.c` includes `pipe.c`), the flags and the compiler's version: an
 * unchanged program is not rebuilt.
 */
export async function compileC(
  file: string,
  compiler: { command: string; version: string },
): Promise<string> {
  const source = path.join(SOURCE_DIR, file);
  const text = await readFile(source);
  const hash = createHash('sha256').update(text);
  // The shared headers are part of every program, and so is a source it includes.
  const included = [...text.toString().matchAll(/^#include "([\w.-]+\.c)"/gm)].map((m) => m[1]!);
  const headers = (await readdir(SOURCE_DIR)).filter((f) => f.endsWith('.h')).sort();
  for (const name of [...headers, ...included]) {
    hash.update(name).update(await readFile(path.join(SOURCE_DIR, name)));
  }
  const key = hash.update(FLAGS.join(' ')).update(compiler.version).digest('hex').slice(0, 16);
  const dir = await cacheDir();
  const output = path.join(dir, `${path.basename(file, '.c')}-${key}`);
  if (await exists(output)) return output;
  const temporary = `${output}.${process.pid}.tmp`;
  try {
    await run(compiler.command, [...FLAGS, '-o', temporary, source]);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? (error as Error).message;
    throw new Error(`compiling ${source} failed:\n${stderr}`, { cause: error });
  }
  await rename(temporary, output);
  return output;
}

async function cacheDir(): Promise<string> {
  const candidates = [
    path.join(PACKAGE_ROOT, 'node_modules', '.cache', 'rxipc-bench'),
    path.join(os.tmpdir(), `rxipc-bench-${os.userInfo().uid}`),
  ];
  for (const dir of candidates) {
    try {
      await mkdir(dir, { recursive: true });
      await access(dir, constants.W_OK);
      return dir;
    } catch {
      // Not writable (a read-only install): try the next one.
    }
  }
  throw new Error(
    `no writable directory for the compiled C baselines (tried ${candidates.join(', ')})`,
  );
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
