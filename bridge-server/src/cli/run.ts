import { Command, CommanderError } from 'commander';
import { ConfigError, isBridgeError } from '../core/errors.js';

/** Exit codes of every command: 0 ok, 1 failure, 2 bad usage, input or configuration. */
export const exitCodes = { ok: 0, failure: 1, usage: 2 } as const;

/**
 * Runs a command body and turns any error into one line per problem on stderr and an exit code.
 * Unknown errors print their message only; no stack traces reach the terminal.
 */
export async function runCommand(body: () => Promise<number | void>): Promise<void> {
  try {
    const code = await body();
    if (typeof code === 'number') process.exitCode = code;
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const line of error.message.split('\n')) process.stderr.write(`wa-bridge: ${line}\n`);
      process.exitCode = exitCodes.usage;
    } else if (isBridgeError(error)) {
      process.stderr.write(`wa-bridge: ${error.message}\n`);
      process.exitCode = error.status < 500 ? exitCodes.usage : exitCodes.failure;
    } else {
      process.stderr.write(`wa-bridge: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = exitCodes.failure;
    }
  }
}

/**
 * The `wa-bridge` program each entry registers its commands on. A subcommand's options are its own,
 * even where its parent has one of the same name (`simulate --webhook-url` and `simulate message
 * --webhook-url`); commander needs that set on every command above such a parent. Usage errors
 * are thrown rather than ending the process, for `parseProgram` to give them the usage exit code.
 */
export function newProgram(): Command {
  return new Command('wa-bridge').showHelpAfterError().enablePositionalOptions().exitOverride();
}

/**
 * Runs the command `argv` names. An unknown command or option, or a missing or bad argument (which
 * commander has already printed, with the help after it) ends with the exit code for bad usage,
 * not commander's own 1; asking for help is no error.
 */
export async function parseProgram(program: Command, argv: string[]): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    process.exitCode = error.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
  }
}
