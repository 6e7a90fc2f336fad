import { randomBytes } from 'node:crypto';
import { simulatorLabel } from './label.js';
import { startSimulator, type Simulator } from './server.js';

export interface SimulatorCommandOptions {
  port?: number;
  host?: string;
  /** The bridge's webhook, e.g. http://127.0.0.1:8080/webhooks/whatsapp. */
  webhookUrl?: string;
  /** Generated when absent; the bridge must be configured with the same values. */
  appSecret?: string;
  accessToken?: string;
  /** Where the lines go; default stdout. */
  print?: (line: string) => void;
}

/**
 * `wa-bridge simulate`: starts the simulator and prints what the bridge needs to talk to it. The
 * secrets it prints are the simulator's own throwaway values, never a real Meta app's. Resolves
 * with the running simulator; the caller stops it (e.g. on SIGINT).
 */
export async function runSimulatorCommand(options: SimulatorCommandOptions = {}): Promise<Simulator> {
  const print = options.print ?? ((line: string) => console.log(line));
  const appSecret = options.appSecret || randomBytes(16).toString('hex');
  const accessToken = options.accessToken || `SIM${randomBytes(24).toString('base64url')}`;
  const simulator = await startSimulator({ port: options.port, host: options.host, webhookUrl: options.webhookUrl, appSecret, accessToken });
  print(`${simulatorLabel}.`);
  print(`  url:             ${simulator.url}   (WA_BRIDGE_CLOUD_API_BASE_URL=${simulator.url})`);
  print(`  app secret:      ${appSecret}`);
  print(`  access token:    ${accessToken}`);
  print(`  phone number id: ${simulator.business.phoneNumberId} (display ${simulator.business.displayPhoneNumber}, WABA ${simulator.business.wabaId})`);
  print(`  webhooks go to:  ${options.webhookUrl ?? '(none set; postWebhook needs a webhook URL)'}`);
  return simulator;
}
