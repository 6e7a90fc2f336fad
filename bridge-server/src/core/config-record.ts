import { randomBytes, scrypt } from 'node:crypto';

/** One setting's effective value, as the configuration record keeps it. */
export type SettingValue = string | number | boolean | null;

/**
 * What the audit trail keeps of one setting: the value itself, or for a secret only a salted,
 * deliberately slow fingerprint (null when unset), enough to tell that it changed and nothing
 * more. A URL that carries a password is kept with the password masked, plus a fingerprint.
 */
export interface RecordedSetting {
  value?: SettingValue;
  fingerprint?: string | null;
}

/** The effective configuration as recorded at a start, by variable name. */
export interface ConfigRecord {
  v: 1;
  /** Salt of the fingerprints, kept from record to record so they stay comparable. */
  salt: string;
  settings: Record<string, RecordedSetting>;
}

/** A setting that differs between two records; a secret's change has no old or new value. */
export interface SettingChange {
  name: string;
  old?: SettingValue;
  new?: SettingValue;
}

const credentials = /\/\/[^@/]*@/;

export const newConfigSalt = (): string => randomBytes(16).toString('base64');

export async function recordConfig(effective: Readonly<Record<string, SettingValue>>, secrets: ReadonlySet<string>, salt: string): Promise<ConfigRecord> {
  const settings: Record<string, RecordedSetting> = {};
  // Fingerprints are slow on purpose: made side by side off the event loop, not one after another on it.
  const pending: Array<Promise<void>> = [];
  const withFingerprint = (setting: RecordedSetting, value: string): RecordedSetting => {
    pending.push(fingerprint(value, salt).then((print) => void (setting.fingerprint = print)));
    return setting;
  };
  for (const name of Object.keys(effective).sort()) {
    const value = effective[name] ?? null;
    if (secrets.has(name)) settings[name] = value === null ? { fingerprint: null } : withFingerprint({}, String(value));
    else if (typeof value === 'string' && credentials.test(value)) settings[name] = withFingerprint({ value: value.replace(credentials, '//***@') }, value);
    else settings[name] = { value };
  }
  await Promise.all(pending);
  return { v: 1, salt, settings };
}

/** The settings whose recorded value or fingerprint differ, by name. */
export function configChanges(before: ConfigRecord, after: ConfigRecord): SettingChange[] {
  const names = [...new Set([...Object.keys(before.settings), ...Object.keys(after.settings)])].sort();
  const changes: SettingChange[] = [];
  for (const name of names) {
    const was = before.settings[name] ?? { value: null };
    const now = after.settings[name] ?? { value: null };
    const secret = !('value' in now) || !('value' in was);
    if (!secret && (was.value ?? null) !== (now.value ?? null)) changes.push({ name, old: was.value ?? null, new: now.value ?? null });
    else if ((was.fingerprint ?? null) !== (now.fingerprint ?? null)) changes.push({ name });
  }
  return changes;
}

/** An audit entry's details for a change: the names, then old and new values, a secret only as "changed". */
export function configChangeDetails(changes: readonly SettingChange[]): Record<string, SettingValue> {
  const details: Record<string, SettingValue> = { changed: changes.map((c) => c.name).join(', ') };
  for (const change of changes) {
    if ('old' in change) {
      details[`${change.name}.old`] = change.old ?? null;
      details[`${change.name}.new`] = change.new ?? null;
    } else {
      details[change.name] = 'changed';
    }
  }
  return details;
}

/** A record read back from the trail; undefined when it is not one this code wrote. */
export function parseConfigRecord(text: unknown): ConfigRecord | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    const parsed = JSON.parse(text) as Partial<ConfigRecord>;
    if (parsed.v !== 1 || typeof parsed.salt !== 'string' || typeof parsed.settings !== 'object' || parsed.settings === null) return undefined;
    return parsed as ConfigRecord;
  } catch {
    return undefined;
  }
}

// scrypt: a verify token or a password too short to resist a plain hash still costs a guesser.
function fingerprint(value: string, salt: string): Promise<string> {
  return new Promise((resolve, reject) =>
    scrypt(value, Buffer.from(salt, 'base64'), 32, { N: 1 << 13, r: 8, p: 1 }, (error, key) => (error ? reject(error) : resolve(key.toString('base64')))),
  );
}
