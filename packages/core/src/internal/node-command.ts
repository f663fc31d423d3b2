/**
 * The `node` command line for a child that runs one of core's scripts: the compiled `.js`
 * from `dist` in production, the `.ts` source through tsx (with the `@rxipc/source` export
 * condition, so workspace packages resolve to their sources) when core itself runs from
 * source, as under vitest, or when the child must import a TypeScript module.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** True when this copy of core runs from its TypeScript sources. */
export const FROM_SOURCE = import.meta.url.endsWith('.ts');

/**
 * `{ command, args }` that run `script` (a path relative to core's `src`/`dist`, without
 * extension, such as `'stage-child'`) under `node`. `typescript` forces tsx even when core
 * runs from `dist` (the child imports a `.ts` module).
 */
export function nodeCommand(
  script: string,
  options: { readonly typescript?: boolean } = {},
): { command: string; args: string[] } {
  const file = fileURLToPath(
    new URL(`../${script}${FROM_SOURCE ? '.ts' : '.js'}`, import.meta.url),
  );
  const tsx = FROM_SOURCE || options.typescript === true;
  const prefix = tsx ? ['--import', tsxLoader(), '--conditions=@rxipc/source'] : [];
  return { command: process.execPath, args: [...prefix, file] };
}

/** True when `specifier` names a TypeScript module (`.ts`, `.mts`, `.cts`). */
export function isTypeScript(specifier: string): boolean {
  return /\.[mc]?ts$/.test(specifier.split(/[?#]/)[0]!);
}

let tsxLoaderUrl: string | undefined;

/** tsx's ESM loader as a URL, found from core's directory upwards, then from the cwd. */
function tsxLoader(): string {
  if (tsxLoaderUrl !== undefined) return tsxLoaderUrl;
  const starts = [path.dirname(fileURLToPath(import.meta.url)), process.cwd()];
  for (const start of starts) {
    for (let dir = start; ;) {
      const manifest = path.join(dir, 'node_modules', 'tsx', 'package.json');
      if (existsSync(manifest)) {
        tsxLoaderUrl = pathToFileURL(createRequire(manifest).resolve('tsx')).href;
        return tsxLoaderUrl;
      }
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  throw Object.assign(
    new Error(
      'a stage written in TypeScript needs tsx, which is not installed here; install tsx or compile the stage to JavaScript',
    ),
    { code: 'ERR_RXIPC_NO_TSX' },
  );
}
