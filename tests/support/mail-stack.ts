// A private Postfix + Dovecot pair for integration tests, run by mailstack/mailstack.sh.
// Each stack gets its own temp directory and its own loopback ports, so test files that run in
// parallel (or two stacks in one file) never share a queue, a mailbox or a port.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./mailstack/mailstack.sh', import.meta.url));
// Not os.tmpdir(): a long TMPDIR would push Dovecot's unix sockets past the 108-byte limit.
const DIR_PREFIX = '/tmp/mst-';
const SCRIPT_TIMEOUT_MS = 60_000;
const START_ATTEMPTS = 3;

const DOMAIN = 'firm.test';
const MAILBOX = 'solicitor@firm.test';
const JOURNAL = 'journal@firm.test';

/** The two mailboxes a stack serves over IMAP, by login name. */
export type MailUser = 'solicitor' | 'journal';

export interface MailStackOptions {
  /** IMAP password of every mailbox, [A-Za-z0-9._-]+. Random when omitted. */
  password?: string;
}

export interface MailStack {
  readonly dir: string;
  readonly smtpPort: number;
  readonly imapPort: number;
  readonly password: string;
  readonly domain: typeof DOMAIN;
  /** Every local part at firm.test is accepted; this is the one the tests read. */
  readonly mailbox: typeof MAILBOX;
  /** Gets a copy of every accepted message (Postfix always_bcc), like the firm's journaling. */
  readonly journal: typeof JOURNAL;
  /** Stops Postfix only: SMTP connections are refused, mailboxes stay readable over IMAP. */
  stopSmtp(): Promise<void>;
  /** Starts Postfix again on the same port, with whatever was left in its queue. */
  startSmtp(): Promise<void>;
  /** Process ids of the IMAP connections Dovecot serves for a login name, one per connection. */
  imapConnections(user: string): Promise<number[]>;
  /**
   * Makes Dovecot drop every IMAP connection of a login name (doveadm kick: the imap processes get
   * SIGTERM and close with BYE), as a server restart would. Fails when there was none to drop.
   */
  kickImap(user: string): Promise<void>;
  /**
   * True when Postfix holds no message: every one it accepted has been handed to Dovecot (or has
   * bounced), so a mailbox read now shows all of them. Postfix writes a message to its queue before
   * answering 250, so once the sender has its answers, an empty queue means delivered.
   */
  queueEmpty(): Promise<boolean>;
  /** Stops both servers and removes the directory. Safe to call twice. */
  stop(): Promise<void>;
}

// Where a message waits in Postfix between its 250 and its delivery (deferred and hold included).
const QUEUES = ['maildrop', 'incoming', 'active', 'deferred', 'hold', 'corrupt'];

interface Ports {
  smtp: number;
  imap: number;
  lmtp: number;
}

export async function startMailStack(options: MailStackOptions = {}): Promise<MailStack> {
  const password = options.password ?? randomBytes(12).toString('hex');
  for (let attempt = 1; ; attempt += 1) {
    const dir = await makeStackDir();
    try {
      const output = await runScript(['start', dir], startEnvironment(await pickPorts(), password));
      return await handleFor(dir, output, password);
    } catch (error) {
      // Ports are only reserved until we close them, so another process can take one before
      // the servers bind it. That race is worth a retry with fresh ports; anything else is not.
      if (attempt >= START_ATTEMPTS || !isPortClash(error)) throw error;
      await rm(dir, { recursive: true, force: true });
    }
  }
}

async function makeStackDir(): Promise<string> {
  const dir = await mkdtemp(DIR_PREFIX);
  // Dovecot delivers as nobody, which must be able to traverse into DIR/mail.
  await chmod(dir, 0o755);
  return dir;
}

function startEnvironment(ports: Ports, password: string): NodeJS.ProcessEnv {
  return {
    MAILSTACK_SMTP_PORT: String(ports.smtp),
    MAILSTACK_IMAP_PORT: String(ports.imap),
    MAILSTACK_LMTP_PORT: String(ports.lmtp),
    MAILSTACK_PASSWORD: password,
    // If this process dies without calling stop(), the script's watchdog cleans up after it.
    MAILSTACK_OWNER_PID: String(process.pid),
  };
}

async function pickPorts(): Promise<Ports> {
  // All three listen at the same time, so the kernel cannot hand out one port twice.
  const servers = await Promise.all([listenOnFreePort(), listenOnFreePort(), listenOnFreePort()]);
  const [smtp, imap, lmtp] = servers.map(portOf);
  await Promise.all(servers.map(closeServer));
  if (smtp === undefined || imap === undefined || lmtp === undefined) throw new Error('could not pick ports');
  return { smtp, imap, lmtp };
}

function listenOnFreePort(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
}

function isPortClash(error: unknown): boolean {
  return error instanceof Error && error.message.includes('Address already in use');
}

function runScript(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [SCRIPT, ...args],
      { env: { ...process.env, ...env }, timeout: SCRIPT_TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`mailstack.sh ${args.join(' ')} failed: ${error.message}\n${stderr}${stdout}`));
        else resolve(stdout);
      },
    );
  });
}

/** Runs doveadm against this stack's Dovecot (its config names the private base_dir and sockets). */
function runDoveadm(dir: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('doveadm', ['-c', `${dir}/dovecot/dovecot.conf`, ...args], { timeout: SCRIPT_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (error) reject(new Error(`doveadm ${args.join(' ')} failed: ${error.message}\n${stderr}${stdout}`));
      else resolve(stdout);
    });
  });
}

/** A login name as doveadm takes it: a plain user, never a mask or an option. */
function checkedUser(user: string): string {
  if (!/^[a-z0-9._-]+$/i.test(user) || user.startsWith('-')) throw new Error(`not a mailbox login name: ${user}`);
  return user;
}

function parseAssignments(output: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of output.split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match?.[1] !== undefined && match[2] !== undefined) values.set(match[1], match[2]);
  }
  return values;
}

function portFrom(values: Map<string, string>, name: string): number {
  const port = Number(values.get(name));
  if (!Number.isInteger(port) || port <= 0) throw new Error(`mailstack.sh printed no valid ${name}`);
  return port;
}

async function handleFor(dir: string, output: string, password: string): Promise<MailStack> {
  try {
    return createHandle(dir, parseAssignments(output), password);
  } catch (error) {
    // The servers are up even though their ports could not be read back: do not leak them.
    await runScript(['stop', dir]);
    throw error;
  }
}

function createHandle(dir: string, values: Map<string, string>, password: string): MailStack {
  let stopping: Promise<void> | undefined;
  return {
    dir,
    smtpPort: portFrom(values, 'MAILSTACK_SMTP_PORT'),
    imapPort: portFrom(values, 'MAILSTACK_IMAP_PORT'),
    password,
    domain: DOMAIN,
    mailbox: MAILBOX,
    journal: JOURNAL,
    stopSmtp: async () => {
      await runScript(['smtp-stop', dir]);
    },
    startSmtp: async () => {
      await runScript(['smtp-start', dir]);
    },
    imapConnections: async (user) => {
      // -f tab: a header line, then username, proto, pid and ip per connection.
      const rows = (await runDoveadm(dir, ['-f', 'tab', 'who', '-1', checkedUser(user)])).trim().split('\n').slice(1);
      return rows.map((row) => row.split('\t')).filter((fields) => fields[1] === 'imap').map((fields) => Number(fields[2]));
    },
    kickImap: async (user) => {
      // doveadm exits non-zero when nobody was kicked.
      await runDoveadm(dir, ['kick', checkedUser(user)]);
    },
    queueEmpty: async () => {
      for (const queue of QUEUES) {
        // Queue files sit in hashed subdirectories; only files count.
        const entries = await readdir(`${dir}/postfix/spool/${queue}`, { recursive: true, withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT') return [];
          throw error;
        });
        if (entries.some((entry) => entry.isFile())) return false;
      }
      return true;
    },
    // Shared so that an afterAll and a failing test's cleanup can both call it.
    stop: () => (stopping ??= stopAndRemove(dir)),
  };
}

async function stopAndRemove(dir: string): Promise<void> {
  await runScript(['stop', dir]);
  await rm(dir, { recursive: true, force: true });
}
