import type { Kysely } from 'kysely';
import { ConfigError } from '../core/errors.js';
import type { Database } from './schema.js';

export interface StoreFitSettings {
  tenant: string;
  sandbox: boolean;
  /** The Cloud API number the sandbox's simulator plays; its conversations are the sandbox's own. */
  sandboxBusinessId: string;
  /** How the store is named in a problem line (the data dir or the database, password hidden). */
  where: string;
}

/**
 * Checks at start that the settings fit the store they open, before anything is served. Two
 * mistakes would otherwise go unnoticed until harm was done:
 * - a store that holds real conversations opened as the sandbox, which signs every visitor in
 *   with every role (an empty env file, or a misspelt setting, starts the sandbox);
 * - a changed tenant, which is hashed into every Message-ID and chat key: each client would get a
 *   second thread, with mail that names no earlier mail.
 * Each is one ConfigError line naming the variable.
 */
export async function checkStoreFits(db: Kysely<Database>, settings: StoreFitSettings): Promise<void> {
  const tenants = await db.selectFrom('conversations').select('tenant').distinct().orderBy('tenant').limit(5).execute();
  const names = tenants.map((row) => row.tenant);
  if (names.length > 0 && !names.includes(settings.tenant)) {
    const shown = names.map((name) => `"${name}"`).join(', ');
    throw new ConfigError(
      `WA_BRIDGE_TENANT: the store at ${settings.where} holds the conversations of tenant ${shown}, not "${settings.tenant}"; a new tenant would open a second thread for every client. Set WA_BRIDGE_TENANT=${names[0]} (it must not change once mail has been relayed)`,
    );
  }
  if (!settings.sandbox) return;
  const real = await db
    .selectFrom('conversations')
    .select(['channel', 'business_id'])
    .where((eb) => eb.or([eb('channel', '!=', 'cloud-api'), eb('business_id', '!=', settings.sandboxBusinessId)]))
    .limit(1)
    .executeTakeFirst();
  if (real !== undefined) {
    throw new ConfigError(
      `WA_BRIDGE_SANDBOX: the store at ${settings.where} holds conversations that did not come from the sandbox (from ${describeChannel(real)}), and the sandbox signs every visitor in with every role; set the WhatsApp and mail settings (README: "Connecting a real number and mailbox"), or point WA_BRIDGE_DATA_DIR at a new directory to try the sandbox`,
    );
  }
}

function describeChannel(row: { channel: string; business_id: string }): string {
  if (row.channel === 'chat-export') return 'an imported chat';
  if (row.channel === 'whatsapp-web') return 'a linked phone';
  return `the Cloud API number ${row.business_id}`;
}
