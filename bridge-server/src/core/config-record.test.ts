import { describe, expect, it } from 'vitest';
import { configChangeDetails, configChanges, newConfigSalt, recordConfig } from './config-record.js';

describe('configuration record', () => {
  const secrets = new Set(['WA_BRIDGE_REPLY_SECRET']);
  const salt = newConfigSalt();
  const base = { PORT: 3000, WA_BRIDGE_DATABASE_URL: 'postgres://bridge:first-password@db.firm.example/wa', WA_BRIDGE_REPLY_SECRET: 'x'.repeat(40), WA_BRIDGE_BACKUP_DIR: null };

  it('keeps ordinary values, masks a password in a URL and fingerprints secrets', async () => {
    const record = await recordConfig(base, secrets, salt);
    expect(record.settings.PORT).toEqual({ value: 3000 });
    expect(record.settings.WA_BRIDGE_BACKUP_DIR).toEqual({ value: null });
    expect(record.settings.WA_BRIDGE_DATABASE_URL).toEqual({ value: 'postgres://***@db.firm.example/wa', fingerprint: expect.any(String) });
    expect(record.settings.WA_BRIDGE_REPLY_SECRET).toEqual({ fingerprint: expect.any(String) });
    expect(JSON.stringify(record)).not.toContain('first-password');
    expect(JSON.stringify(record)).not.toContain('x'.repeat(40));
  });

  it('names what changed: old and new values, a secret or a URL password only as changed', async () => {
    const before = await recordConfig(base, secrets, salt);
    expect(configChanges(before, await recordConfig({ ...base }, secrets, salt))).toEqual([]);
    const after = await recordConfig({ ...base, PORT: 8080, WA_BRIDGE_DATABASE_URL: 'postgres://bridge:second-password@db.firm.example/wa', WA_BRIDGE_REPLY_SECRET: 'y'.repeat(40), WA_BRIDGE_BACKUP_DIR: '/backups' }, secrets, salt);
    const changes = configChanges(before, after);
    expect(changes).toEqual([
      { name: 'PORT', old: 3000, new: 8080 },
      { name: 'WA_BRIDGE_BACKUP_DIR', old: null, new: '/backups' },
      { name: 'WA_BRIDGE_DATABASE_URL' },
      { name: 'WA_BRIDGE_REPLY_SECRET' },
    ]);
    expect(configChangeDetails(changes)).toEqual({
      changed: 'PORT, WA_BRIDGE_BACKUP_DIR, WA_BRIDGE_DATABASE_URL, WA_BRIDGE_REPLY_SECRET',
      'PORT.old': 3000,
      'PORT.new': 8080,
      'WA_BRIDGE_BACKUP_DIR.old': null,
      'WA_BRIDGE_BACKUP_DIR.new': '/backups',
      WA_BRIDGE_DATABASE_URL: 'changed',
      WA_BRIDGE_REPLY_SECRET: 'changed',
    });
  });
});
