#!/usr/bin/env node
// The `rxipc` command. A launcher that exists before the build, so installing the workspace
// can link it; the command itself is compiled to dist/ by `pnpm build`.
await import('../dist/cli/main.js');
