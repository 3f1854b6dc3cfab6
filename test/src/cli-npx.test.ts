import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repo } from './cli-run.js';

// `npx iqa-bench …` at the repository root after `npm ci && npm run build`: npm links the root's devDependency
// @iqa-bench/cli into node_modules/.bin, so npx runs it instead of asking the registry for a package `iqa-bench`.
describe('iqa-bench at the repository root', () => {
  const cli = join(repo, 'packages', 'cli');
  const version = (JSON.parse(readFileSync(join(cli, 'package.json'), 'utf8')) as { version: string })
    .version;

  it('node_modules/.bin/iqa-bench is the workspace CLI, executable, with a node shebang', () => {
    const link = join(repo, 'node_modules', '.bin', 'iqa-bench');
    const target = realpathSync(link);
    expect(target).toBe(realpathSync(join(cli, 'bin', 'iqa-bench.js')));
    expect(statSync(target).mode & 0o111).toBe(0o111);
    expect(readFileSync(target, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    const out = execFileSync(link, ['--version'], { cwd: repo, encoding: 'utf8' });
    expect(out.trim()).toBe(version);
  });

  it('npx --no-install iqa-bench --version runs it', () => {
    const out = execFileSync('npx', ['--no-install', 'iqa-bench', '--version'], {
      cwd: repo,
      encoding: 'utf8',
      env: { ...process.env, npm_config_offline: 'true' },
    });
    expect(out.trim()).toBe(version);
  });
});
