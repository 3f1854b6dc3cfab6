import { readFile, stat } from 'node:fs/promises';
import { CliError } from './errors.js';

/** Reads a JSON file that a user named, bounded in size; errors name the file as the user typed it. */
export async function readJsonFile(
  path: string,
  label: string,
  maxBytes = 64 * 1024 * 1024,
): Promise<unknown> {
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new CliError(`${label}: not a file`);
    size = s.size;
  } catch (err) {
    if (err instanceof CliError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(`${label}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  if (size > maxBytes)
    throw new CliError(`${label}: ${size} bytes is more than the ${maxBytes} bytes allowed`);
  const text = await readFile(path, 'utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`${label}: not valid JSON (${(err as Error).message})`);
  }
}
