import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { loadConfig } from './load.js';
import { resolveMediaStore } from './media-store.js';

const resolved = (value: string | undefined) => {
  const problems: string[] = [];
  const location = resolveMediaStore(value, '/var/lib/wa-bridge', problems);
  return { location, problems };
};

describe('WA_BRIDGE_MEDIA_STORE', () => {
  it('defaults to the blobs directory under the data dir', () => {
    expect(resolved(undefined)).toEqual({ location: { kind: 'file', root: '/var/lib/wa-bridge/blobs' }, problems: [] });
  });

  it('takes a shared directory as a file:// URL', () => {
    expect(resolved('file:///srv/wa%20media/').location).toEqual({ kind: 'file', root: '/srv/wa media' });
    expect(resolved('file://localhost/srv/media').location).toEqual({ kind: 'file', root: '/srv/media' });
  });

  it('takes a bucket, a key prefix and the server options', () => {
    expect(resolved('s3://firm-wa-media').location).toEqual({ kind: 's3', bucket: 'firm-wa-media', prefix: '', forcePathStyle: false });
    expect(resolved('s3://firm-wa-media/bridge/prod/?endpoint=http://127.0.0.1:9000/&region=eu-west-2&forcePathStyle=true').location).toEqual({
      kind: 's3',
      bucket: 'firm-wa-media',
      prefix: 'bridge/prod/',
      endpoint: 'http://127.0.0.1:9000',
      region: 'eu-west-2',
      forcePathStyle: true,
    });
  });

  it.each([
    ['/srv/media', 'expected file:///path or s3://bucket/prefix, got "/srv/media"'],
    ['https://s3.example.com/bucket', 'expected file:///path or s3://bucket/prefix, got a https: URL'],
    ['file://fileserver/share', 'file:// names a directory on this machine'],
    ['file:///srv/media?sync=1', 'file:// takes no ?options'],
    ['file:///', 'not the file system root'],
    ['s3://Firm_Media/x', 'is not a bucket name'],
    ['s3://ab', 'is not a bucket name'],
    ['s3://media:9000/x', '?endpoint=http://host:port'],
    ['s3://media/a//b', 'may hold only letters'],
    ['s3://media/a%20b', 'may hold only letters'],
    ['s3://media?endpoint=ftp://host', '?endpoint= expects'],
    ['s3://media?endpoint=not a url', '?endpoint= expects'],
    ['s3://media?region=EU West', '?region= expects'],
    ['s3://media?forcePathStyle=yes', '?forcePathStyle= expects true or false'],
    ['s3://media?pathStyle=true', 'unknown option ?pathStyle= (known: endpoint, region, forcePathStyle)'],
    ['s3://media?region=eu-west-2&region=eu-west-1', '?region= is given more than once'],
    ['s3://media#x', 'no #fragment'],
  ])('refuses %s', (value, message) => {
    const { location, problems } = resolved(value);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(message);
    expect(problems[0]!.startsWith('WA_BRIDGE_MEDIA_STORE: ')).toBe(true);
    expect(location).toEqual({ kind: 'file', root: '/var/lib/wa-bridge/blobs' });
  });

  it('refuses credentials in the URL without repeating them', () => {
    for (const value of ['s3://AKIAEXAMPLE:s3cr3t@media/x', 's3://media?accessKeyId=AKIAEXAMPLE&secretAccessKey=s3cr3t', 's3://media?endpoint=https://AKIAEXAMPLE:s3cr3t@s3.example']) {
      const { problems } = resolved(value);
      expect(problems.length, value).toBeGreaterThan(0);
      expect(problems.join('\n'), value).not.toContain('s3cr3t');
      expect(problems.join('\n'), value).toMatch(/credentials|without credentials/);
    }
  });

  it('gives one line per problem when the bridge loads its settings', () => {
    const env = { WA_BRIDGE_DATA_DIR: '/tmp/wab-config', WA_BRIDGE_SANDBOX: 'on', WA_BRIDGE_MEDIA_STORE: 's3://Bad_Bucket?region=Nope&forcePathStyle=1' };
    let error: unknown;
    try {
      loadConfig(env, undefined);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const lines = (error as Error).message.split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line.startsWith('WA_BRIDGE_MEDIA_STORE: ')).toBe(true);
    expect(loadConfig({ ...env, WA_BRIDGE_MEDIA_STORE: 'file:///srv/shared-media' }, undefined).mediaStore).toEqual({ kind: 'file', root: '/srv/shared-media' });
  });
});
