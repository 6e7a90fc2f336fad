import type { WebClient } from './client-port.js';
import { describeError, type WebLogger } from './log-port.js';

/** Timing helpers of the session's lifecycle: the reconnect backoff and bounded shutdown. */

/** 1 s, 2 s, 4 s ... capped at 5 min; a random point in the upper half of that, so restarts spread. */
export function reconnectDelay(attempt: number, options: { initialDelayMs?: number; maxDelayMs?: number }, random: () => number): number {
  const initial = options.initialDelayMs ?? 1000;
  const max = options.maxDelayMs ?? 5 * 60_000;
  const ceiling = Math.min(max, initial * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export async function destroyQuietly(client: WebClient, logger: WebLogger): Promise<void> {
  try {
    await client.destroy();
  } catch (error) {
    // After `disconnected` the library has already destroyed it; a second close may throw.
    logger.debug(describeError(error), 'closing the WhatsApp Web client failed');
  }
}

/** Waits for `work`, but no longer than `ms`; never rejects. */
export async function withTimeout(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work.catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
