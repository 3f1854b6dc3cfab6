#!/usr/bin/env node
// The `iqa-bench` command. A committed file rather than dist/bin.js, so that npm links the command when it installs
// (`npm ci` at the monorepo root, before anything is built), and `npx iqa-bench` finds it after `npm run build`.
import { existsSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';

const built = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(built)) {
  process.stderr.write(
    'iqa-bench: the command is not built yet: run `npm run build` at the repository root\n',
  );
  process.exit(1);
}
await import(built.href);
