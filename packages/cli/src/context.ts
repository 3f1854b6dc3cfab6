import type { ExitCode } from './errors.js';
import type { CliIo, CommonFlags } from './io.js';
import { Output } from './io.js';

/** What every command gets: where to write, and a wrapper that turns its body into a commander action. */
export interface Ctx {
  readonly io: CliIo;
  /**
   * Wraps a command body. The body gets an Output configured from the command's flags and the flags themselves, plus
   * positional arguments when the command has them; its return value (default 0) becomes the exit code.
   */
  action<F extends CommonFlags, A extends unknown[] = []>(
    body: (out: Output, flags: F, ...args: A) => Promise<ExitCode | void>,
  ): (...commanderArgs: unknown[]) => Promise<void>;
}

export function createCtx(io: CliIo, setExitCode: (code: ExitCode) => void): Ctx {
  return {
    io,
    action<F extends CommonFlags, A extends unknown[] = []>(
      body: (out: Output, flags: F, ...args: A) => Promise<ExitCode | void>,
    ) {
      return async (...commanderArgs: unknown[]) => {
        // commander calls an action with (...positionals, options, command).
        const flags = commanderArgs[commanderArgs.length - 2] as F;
        const positionals = commanderArgs.slice(0, -2) as A;
        const code = await body(new Output(io, flags), flags, ...positionals);
        setExitCode(code ?? 0);
      };
    },
  };
}
