import { InvalidArgumentError, type Command } from 'commander';
import { createHash } from 'node:crypto';
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

const simulatorUrlOption = (value: string): string => {
  if (!hasUrlProtocol(value, ['http:', 'https:'])) throw new InvalidArgumentError('expected the http:// URL `wa-bridge simulate` printed, e.g. http://127.0.0.1:4010');
  return value;
};

/**
 * `wa-bridge simulate`: the local Cloud API simulator, a test double of Meta's service. It serves
 * media and send endpoints as documented; `simulate message` posts one signed webhook as a client,
 * its document (if any) uploaded to the running simulator first.
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
    .option('--text <text>', 'the message text (with --file, the caption)')
    .option('--file <path>', 'a document to send; uploaded to the running simulator the bridge fetches media from')
    .option('--simulator-url <url>', 'with --file: that simulator, as `wa-bridge simulate` printed it (WA_BRIDGE_CLOUD_API_BASE_URL)', simulatorUrlOption)
    .option('--access-token <token>', "with --file: that simulator's access token, as it printed it")
    .option('--mime-type <type>', "with --file: the document's media type (default: from its extension)")
    .action((options: MessageOptions) =>
      runCommand(async () => {
        if (!options.text && !options.file) throw new BadInputError('bad_usage', 'give --text or --file (or both)');
        const from = options.from.replace(/^\+/, '');
        if (!/^\d{8,15}$/.test(from)) throw new BadInputError('bad_usage', '--from must be a phone number of 8 to 15 digits');
        const { defaultSimulatedBusiness, inboundMessage } = await import('../channels/simulator/builders.js');
        const { postSignedWebhook } = await import('../channels/simulator/client.js');
        const sender = { from, name: options.name };
        const envelope = options.file
          ? inboundMessage({ ...sender, type: 'document', ...(await uploadFile(options, options.file, defaultSimulatedBusiness.phoneNumberId)), ...(options.text ? { caption: options.text } : {}) })
          : inboundMessage({ ...sender, type: 'text', body: options.text ?? '' });
        const answer = await postSignedWebhook(options.webhookUrl, options.appSecret, envelope);
        process.stdout.write(`webhook answered ${answer.status}${answer.status === 200 ? '' : `: ${answer.body.slice(0, 500)}`}\n`);
        return answer.status === 200 ? 0 : 1;
      }),
    );
}

interface MessageOptions {
  webhookUrl: string;
  appSecret: string;
  from: string;
  name: string;
  text?: string;
  file?: string;
  simulatorUrl?: string;
  accessToken?: string;
  mimeType?: string;
}

/**
 * Hands the file to the simulator the bridge is configured with, as a business would upload
 * media; the bridge then looks the media id up there and downloads it, as from Meta.
 */
async function uploadFile(options: MessageOptions, file: string, phoneNumberId: string) {
  if (!options.simulatorUrl || !options.accessToken) {
    throw new BadInputError('bad_usage', '--file needs --simulator-url and --access-token: the url and access token of the running `wa-bridge simulate` the bridge fetches media from');
  }
  const bytes = await readFile(file).catch((error: unknown) => {
    throw new BadInputError('bad_file', `--file: cannot read ${file} (${error instanceof Error ? error.message : String(error)})`);
  });
  const mimeType = options.mimeType ?? mimeTypeOf(file);
  const { uploadMedia } = await import('../channels/simulator/client.js');
  const { id } = await uploadMedia({ simulatorUrl: options.simulatorUrl, accessToken: options.accessToken, phoneNumberId, bytes, mimeType, filename: path.basename(file) });
  process.stdout.write(`uploaded ${path.basename(file)} (${bytes.length} bytes) to ${options.simulatorUrl} as media ${id}\n`);
  return { media: { id, mimeType, sha256: createHash('sha256').update(bytes).digest('base64') }, filename: path.basename(file) };
}

const documentTypes: Record<string, string> = {
  '.pdf': 'application/pdf',
  '.txt': 'text/plain',
  '.csv': 'text/csv',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.doc': 'application/msword',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.xls': 'application/vnd.ms-excel',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.zip': 'application/zip',
};

const mimeTypeOf = (file: string): string => documentTypes[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
