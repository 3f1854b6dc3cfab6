import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { confinePath, PathEscapeError, relativePathProblem } from './paths.js';

const tmp = mkdtempSync(join(tmpdir(), 'iqa-confine-'));
const root = join(tmp, 'root');
mkdirSync(join(root, 'runs', 'a'), { recursive: true });
mkdirSync(join(tmp, 'outside'));
writeFileSync(join(tmp, 'outside', 'secret.txt'), 'secret');
symlinkSync(join(tmp, 'outside'), join(root, 'runs', 'out-link')); // a folder link leading out
symlinkSync(join(tmp, 'outside', 'secret.txt'), join(root, 'runs', 'file-link')); // a file link leading out
symlinkSync(join(root, 'runs', 'a'), join(root, 'runs', 'in-link')); // a link that stays inside
symlinkSync(join(tmp, 'outside', 'nothing-yet'), join(root, 'runs', 'dangling')); // a link to nowhere (yet)
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('relativePathProblem', () => {
  it('accepts plain relative paths and names what is wrong with the others', () => {
    expect(relativePathProblem('runs/a/summary.json')).toBeUndefined();
    expect(relativePathProblem('./runs//a/')).toBeUndefined();
    expect(relativePathProblem('a..b/c')).toBeUndefined(); // '..' only as a whole segment
    expect(relativePathProblem('')).toBe('is empty');
    expect(relativePathProblem('../x')).toBe("contains '..'; expected a path inside the worker root");
    expect(relativePathProblem('runs/../../x')).toBe("contains '..'; expected a path inside the worker root");
    expect(relativePathProblem('/etc/passwd')).toBe(
      'is absolute; expected a path relative to the worker root',
    );
    expect(relativePathProblem('C:/Windows')).toBe(
      'is absolute; expected a path relative to the worker root',
    );
    expect(relativePathProblem('runs\\..\\x')).toBe('contains a backslash; use forward slashes');
    expect(relativePathProblem('a\0b')).toBe('contains a NUL character');
    expect(relativePathProblem('a/'.repeat(600))).toBe('is 1200 characters, expected at most 1024');
  });
});

describe('confinePath', () => {
  it('resolves paths inside the root, existing or not, and links that stay inside', async () => {
    expect(await confinePath(root, 'runs/a')).toBe(join(root, 'runs', 'a'));
    expect(await confinePath(root, 'runs/new/dir/file.txt')).toBe(
      join(root, 'runs', 'new', 'dir', 'file.txt'),
    );
    expect(await confinePath(root, 'runs/in-link/x.json')).toBe(join(root, 'runs', 'a', 'x.json'));
    expect(await confinePath(root, '.')).toBe(root);
  });

  it('refuses links that lead out, dangling links, and malformed paths, naming the path', async () => {
    await expect(confinePath(root, 'runs/out-link/secret.txt', 'paths.out')).rejects.toThrow(
      new PathEscapeError(
        `paths.out "runs/out-link/secret.txt" leads outside the worker root ${root} (to ${join(tmp, 'outside', 'secret.txt')})`,
      ),
    );
    await expect(confinePath(root, 'runs/out-link/new/file.txt')).rejects.toThrow(
      /leads outside the worker root/,
    );
    await expect(confinePath(root, 'runs/file-link')).rejects.toThrow(/leads outside the worker root/);
    await expect(confinePath(root, 'runs/dangling')).rejects.toThrow(
      /path "runs\/dangling" cannot be resolved/,
    );
    await expect(confinePath(root, '../outside/secret.txt')).rejects.toThrow(/contains '\.\.'/);
    await expect(confinePath(root, join(tmp, 'outside'))).rejects.toThrow(/is absolute/);
  });

  it('checks against the real path of a root that is itself reached through a link', async () => {
    const viaLink = join(tmp, 'root-link');
    symlinkSync(root, viaLink);
    expect(await confinePath(viaLink, 'runs/a')).toBe(join(root, 'runs', 'a'));
    await expect(confinePath(viaLink, 'runs/out-link')).rejects.toThrow(/leads outside/);
  });
});
