import type { SingleBar } from 'cli-progress';

/**
 * A progress bar for long command-line work, drawn on stderr when it is a terminal. Nothing
 * otherwise: a scheduled job's log or a pipe gets only the command's closing line. `format` is
 * cli-progress's (tokens such as {bar}, {value}, {total}, {percentage}, {eta_formatted} and any
 * payload given to start and update).
 */
export async function progressBar(format: string): Promise<SingleBar | undefined> {
  if (!process.stderr.isTTY) return undefined;
  const cliProgress = (await import('cli-progress')).default;
  return new cliProgress.SingleBar({ format, stream: process.stderr }, cliProgress.Presets.shades_classic);
}
