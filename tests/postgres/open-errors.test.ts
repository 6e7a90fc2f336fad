import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../bridge-server/src/core/errors.js';
import { openDatabase } from '../../bridge-server/src/store/db.js';
import { postgresServerUrl } from '../support/test-database.js';

/** What an operator is told when the PostgreSQL store cannot be opened: the setting, and why. */
describe('openDatabase on PostgreSQL, when the store cannot be opened', () => {
  const at = (change: (url: URL) => void): string => {
    const url = new URL(postgresServerUrl);
    change(url);
    return url.toString();
  };
  const failure = (url: string) => openDatabase({ kind: 'postgres', url }).then(() => expect.unreachable('it opened'), (error: unknown) => error as Error);

  it('says nothing answers at a port where no server listens', async () => {
    // A port just freed, so nothing listens on it.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const error = await failure(at((url) => ((url.hostname = '127.0.0.1'), (url.port = String(port)))));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(`WA_BRIDGE_DATABASE_URL: nothing answers at 127.0.0.1:${port} (connection refused); is PostgreSQL running and listening there?`);
  });

  it('names a database that does not exist and how to make it', async () => {
    const error = await failure(at((url) => (url.pathname = '/wab_no_such_database')));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/^WA_BRIDGE_DATABASE_URL: database "wab_no_such_database" does not exist on [^;]+; create it first \(createdb wab_no_such_database\)$/);
  });

  it('names the user whose login was refused, and never shows a password', async () => {
    const error = await failure(at((url) => ((url.username = 'wab_no_such_role'), (url.password = 'hunter2'))));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/^WA_BRIDGE_DATABASE_URL: PostgreSQL at \S+ refused the login of "wab_no_such_role": /);
    expect(error.message).not.toContain('hunter2');
  });
});
