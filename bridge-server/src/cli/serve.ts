import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { runCommand } from './run.js';

export function registerServe(program: Command, threads: { composeThread?: string; smtpThread?: string; documentTextThread?: string } = {}): void {
  program
    .command('serve')
    .description('Run the bridge: webhooks, outbox worker, mail relay (and the sandbox when nothing is configured).')
    .option('-c, --config <file>', 'JSON config file (environment variables win)')
    .action((options: { config?: string }) =>
      runCommand(async () => {
        const config = loadConfig(process.env, options.config ?? process.env.WA_BRIDGE_CONFIG);
        // Loaded on use: the whole server is a lot to load for the small commands beside it.
        const { startBridge } = await import('../app.js');
        const bridge = await startBridge(config, {
          ...(threads.composeThread ? { composeThread: threads.composeThread } : {}),
          ...(threads.smtpThread ? { smtpThread: threads.smtpThread } : {}),
          ...(threads.documentTextThread ? { documentTextThread: threads.documentTextThread } : {}),
        });
        if (bridge.sandbox) {
          const open = bridge.url.replace('127.0.0.1', 'localhost');
          process.stderr.write(
            [
              '',
              '  wa-bridge is running as a SANDBOX: no WhatsApp number and no mailbox are connected.',
              `  Open ${open}/sandbox to write as a client and watch the threaded emails arrive.`,
              `  The Outlook task pane and the Teams tab, signed in as a demo user: ${open}/addin/ and ${open}/teams/`,
              '  To connect a real number and mailbox, set the variables listed in README.md.',
              ...(config.host === '127.0.0.1'
                ? ['  It listens on this machine only (127.0.0.1): everyone who can open it is signed in with every role.', '  WA_BRIDGE_HOST=0.0.0.0 opens it to other machines.']
                : [`  It listens on ${config.host}: everyone who can reach it is signed in with every role.`]),
              '',
            ].join('\n') + '\n',
          );
        }
        await waitForSignal();
        await bridge.stop();
      }),
    );
}

/** Graceful shutdown: the first SIGINT/SIGTERM drains in-flight work; a second one exits at once. */
function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const onSignal = () => {
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      resolve();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
}
