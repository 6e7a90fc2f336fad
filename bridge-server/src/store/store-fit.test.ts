import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { openSqlite, type OpenedDatabase } from './db.js';
import { checkStoreFits } from './store-fit.js';

const sandboxNumber = '106540352242922';

describe('checkStoreFits', () => {
  let dir: string;
  let opened: OpenedDatabase;
  let nextId = 1;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wa-store-fit-'));
    opened = openSqlite(path.join(dir, 'store.sqlite'));
  });
  afterEach(async () => {
    await opened.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function conversation(tenant: string, channel: string, businessId: string): Promise<void> {
    const id = nextId++;
    await opened.db
      .insertInto('conversations')
      .values({ id, tenant, channel, chat_key: `key-${id}`, chat_token: `token${id}`.padEnd(26, 'a'), business_id: businessId, business_display_number: null, client_wa_id: '447700900000', client_user_id: null, client_name: null, subject: 'WhatsApp chat', opened_at: 1, created_at: 1 })
      .execute();
  }

  const fit = (settings: { tenant?: string; sandbox: boolean }) =>
    checkStoreFits(opened.db, { tenant: settings.tenant ?? 'default', sandbox: settings.sandbox, sandboxBusinessId: sandboxNumber, where: '/srv/data' });

  it('lets the sandbox open an empty store, or one only the sandbox wrote', async () => {
    await expect(fit({ sandbox: true })).resolves.toBeUndefined();
    await conversation('default', 'cloud-api', sandboxNumber);
    await expect(fit({ sandbox: true })).resolves.toBeUndefined();
    await expect(fit({ sandbox: false })).resolves.toBeUndefined();
  });

  it.each([
    ['the Cloud API number 109876543210123', 'cloud-api', '109876543210123'],
    ['a linked phone', 'whatsapp-web', '447700900999'],
    ['an imported chat', 'chat-export', 'chat-export'],
  ])('keeps the sandbox, which signs everyone in with every role, off a store holding a conversation from %s', async (what, channel, businessId) => {
    await conversation('default', 'cloud-api', sandboxNumber);
    await conversation('default', channel, businessId);
    const refused = await fit({ sandbox: true }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as Error).message).toMatch(/^WA_BRIDGE_SANDBOX: the store at \/srv\/data holds conversations that did not come from the sandbox/);
    expect((refused as Error).message).toContain(`(from ${what})`);
    expect((refused as Error).message).not.toContain('\n');
    // Live, the same store opens.
    await expect(fit({ sandbox: false })).resolves.toBeUndefined();
  });

  it('refuses a tenant the store has no conversation of, naming the one it has', async () => {
    await conversation('smith-law', 'cloud-api', '109876543210123');
    await expect(fit({ tenant: 'smith-law', sandbox: false })).resolves.toBeUndefined();
    const refused = await fit({ tenant: 'default', sandbox: false }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as Error).message).toMatch(/^WA_BRIDGE_TENANT: .*tenant "smith-law", not "default".*Set WA_BRIDGE_TENANT=smith-law/);
    // A store shared by two tenants opens for either.
    await conversation('jones-law', 'cloud-api', '109876543210456');
    await expect(fit({ tenant: 'jones-law', sandbox: false })).resolves.toBeUndefined();
  });
});
