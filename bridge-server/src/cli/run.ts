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
