import { InvalidArgumentError, type Command } from 'commander';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { hasUrlProtocol } from '../config/schema.js';
import { BadInputError } from '../core/errors.js';
import { runCommand } from './run.js';

const portOption = (value: string): number => {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) throw new InvalidArgumentError('expected a port number 0-65535');
  return port;
};

/** A webhook URL is checked when given, not when the first webhook fails to go out. */
const webhookUrlOption = (value: string): string => {
  if (!hasUrlProtocol(value, ['http:', 'https:'])) throw new InvalidArgumentError('expected an http:// or https:// URL, e.g. http://127.0.0.1:3000/webhooks/whatsapp');
  return value;
};

/**
 * `wa-bridge simulate`: the local Cloud API simulator, a test double of Meta's service. It serves
 * media and send endpoints as documented; `simulate message` posts one signed webhook as a client.
 */
export function registerSimulate(program: Command): void {
  const simulate = program
    .command('simulate')
    .description('Run a local WhatsApp Cloud API simulator (a test double, not Meta) that signs webhooks and serves media and sends.')
    .option('--port <port>', 'port to listen on (0 = any free port)', portOption, 0)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--webhook-url <url>', "the bridge's webhook, e.g. http://127.0.0.1:3000/webhooks/whatsapp", webhookUrlOption)
    .option('--app-secret <secret>', 'key for X-Hub-Signature-256 (generated if absent)')
    .option('--access-token <token>', 'the only bearer token accepted (generated if absent)')
    .action((options: { port: number; host: string; webhookUrl?: string; appSecret?: string; accessToken?: string }) =>
      runCommand(async () => {
        const { runSimulatorCommand } = await import('../channels/simulator/command.js');
        const simulator = await runSimulatorCommand(options);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await simulator.stop();
      }),
    );

  simulate
    .command('message')
    .description("Post one signed inbound-message webhook to a bridge, as the client would send it.")
    .requiredOption('--webhook-url <url>', "the bridge's webhook URL", webhookUrlOption)
    .requiredOption('--app-secret <secret>', 'the app secret the bridge is configured with')
    .requiredOption('--from <phone>', "the client's phone number, digits with optional +")
    .option('--name <name>', "the client's profile name", 'Simulated Client')
    .option('--text <text>', 'the message text')
    .option('--file <path>', 'a document to send (served by a short-lived simulator on this machine)')
    .option('--access-token <token>', 'bearer token the bridge uses for media (needed with --file)', 'simulated-token')
    .action((options: { webhookUrl: string; appSecret: string; from: string; name: string; text?: string; file?: string; accessToken: string }) =>
      runCommand(async () => {
        if (!options.text && !options.file) throw new BadInputError('bad_usage', 'give --text or --file (or both)');
        const from = options.from.replace(/^\+/, '');
        if (!/^\d{8,15}$/.test(from)) throw new BadInputError('bad_usage', '--from must be a phone number of 8 to 15 digits');
        const { startSimulator } = await import('../channels/simulator/server.js');
        const simulator = await startSimulator({ appSecret: options.appSecret, accessToken: options.accessToken, webhookUrl: options.webhookUrl });
        try {
          const sender = { from, name: options.name };
          const envelope = options.file
            ? simulator.inboundMessage({
                ...sender,
                type: 'document',
                media: simulator.addMedia(await readFile(options.file), 'application/octet-stream'),
                filename: path.basename(options.file),
                ...(options.text ? { caption: options.text } : {}),
              })
            : simulator.inboundMessage({ ...sender, type: 'text', body: options.text ?? '' });
          const answer = await simulator.postWebhook(envelope);
          process.stdout.write(`webhook answered ${answer.status}${answer.status === 200 ? '' : `: ${answer.body.slice(0, 500)}`}\n`);
          // With a file, the bridge downloads it from this simulator: give it a moment to do so.
          if (options.file && answer.status === 200) await new Promise((resolve) => setTimeout(resolve, 3000));
          return answer.status === 200 ? 0 : 1;
        } finally {
          await simulator.stop();
        }
      }),
    );
}
