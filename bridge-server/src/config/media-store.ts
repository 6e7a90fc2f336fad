import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MediaStoreLocation } from '../store/blob-store.js';

const variable = 'WA_BRIDGE_MEDIA_STORE';
const s3Options = ['endpoint', 'region', 'forcePathStyle'];
const credentialsAdvice = 'credentials do not belong in the URL (it is logged and shown); give them to the bridge as AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, an AWS profile or an instance role';

/**
 * WA_BRIDGE_MEDIA_STORE: `file:///shared/path` (default <data dir>/blobs) or
 * `s3://bucket/optional/prefix?endpoint=…&region=…&forcePathStyle=true`. Adds one line per
 * problem to `problems` (credentials in the URL among them: a bucket's come from the AWS
 * credential chain) and then returns the default.
 */
export function resolveMediaStore(value: string | undefined, dataDir: string, problems: string[]): MediaStoreLocation {
  const fallback: MediaStoreLocation = { kind: 'file', root: path.join(dataDir, 'blobs') };
  if (value === undefined) return fallback;
  const found: string[] = [];
  const location = parse(value.trim(), found);
  problems.push(...found.map((problem) => `${variable}: ${problem}`));
  return found.length === 0 && location ? location : fallback;
}

function parse(value: string, problems: string[]): MediaStoreLocation | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push(`expected file:///path or s3://bucket/prefix, got ${JSON.stringify(shown(value))}`);
    return undefined;
  }
  if (url.username || url.password) {
    problems.push(credentialsAdvice);
    return undefined;
  }
  if (url.hash) problems.push('a media store URL has no #fragment');
  if (url.protocol === 'file:') return parseFile(url, problems);
  if (url.protocol === 's3:') return parseS3(url, problems);
  problems.push(`expected file:///path or s3://bucket/prefix, got a ${url.protocol.replace(/:$/, '')}: URL`);
  return undefined;
}

function parseFile(url: URL, problems: string[]): MediaStoreLocation | undefined {
  if (url.host !== '' && url.host !== 'localhost') {
    problems.push(`file:// names a directory on this machine (file:///srv/wa-bridge/media); mount a share from ${JSON.stringify(url.host)} and name its local path`);
    return undefined;
  }
  if (url.search) problems.push('file:// takes no ?options');
  const root = fileURLToPath(url).replace(/(?<=.)\/+$/, '');
  if (root === '/') problems.push('file:// needs a directory, not the file system root');
  return problems.length === 0 ? { kind: 'file', root } : undefined;
}

function parseS3(url: URL, problems: string[]): MediaStoreLocation | undefined {
  const bucket = url.hostname;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) || bucket.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(bucket)) {
    problems.push(`${JSON.stringify(bucket)} is not a bucket name (3 to 63 lower-case letters, digits, dots and dashes, e.g. s3://firm-wa-media/bridge)`);
  }
  if (url.port) problems.push('put the server\'s address in ?endpoint=http://host:port, not after the bucket name');
  const trimmed = url.pathname.replace(/^\//, '').replace(/\/$/, '');
  const segments = trimmed === '' ? [] : trimmed.split('/');
  if (segments.some((segment) => !/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(segment) || segment === '..')) {
    problems.push(`the key prefix ${JSON.stringify(url.pathname)} may hold only letters, digits, dots, dashes and underscores between single slashes`);
  }
  const prefix = segments.length > 0 ? `${segments.join('/')}/` : '';

  const unknown = [...new Set(url.searchParams.keys())].filter((name) => !s3Options.includes(name));
  for (const name of unknown) {
    problems.push(/key|secret|token|password|credential/i.test(name) ? `?${name}=: ${credentialsAdvice}` : `unknown option ?${name}= (known: ${s3Options.join(', ')})`);
  }
  for (const name of s3Options) if (url.searchParams.getAll(name).length > 1) problems.push(`?${name}= is given more than once`);

  const endpoint = url.searchParams.get('endpoint') ?? undefined;
  if (endpoint !== undefined) {
    let ok: boolean;
    try {
      const parsed = new URL(endpoint);
      ok = (parsed.protocol === 'http:' || parsed.protocol === 'https:') && !parsed.username && !parsed.password;
    } catch {
      ok = false;
    }
    if (!ok) problems.push(`?endpoint= expects the server's http:// or https:// address without credentials, e.g. https://s3.firm.example:9000, got ${JSON.stringify(shown(endpoint))}`);
  }
  const region = url.searchParams.get('region') ?? undefined;
  if (region !== undefined && !/^[a-z0-9-]{1,40}$/.test(region)) problems.push(`?region= expects a region name such as eu-west-2, got ${JSON.stringify(region)}`);
  const pathStyle = url.searchParams.get('forcePathStyle') ?? undefined;
  if (pathStyle !== undefined && pathStyle !== 'true' && pathStyle !== 'false') problems.push(`?forcePathStyle= expects true or false, got ${JSON.stringify(pathStyle)}`);
  if (problems.length > 0) return undefined;
  return {
    kind: 's3',
    bucket,
    prefix,
    ...(endpoint !== undefined ? { endpoint: endpoint.replace(/\/+$/, '') } : {}),
    ...(region !== undefined ? { region } : {}),
    forcePathStyle: pathStyle === 'true',
  };
}

/** A value as it may be shown: user and password of any URL in it hidden. */
const shown = (value: string) => value.replace(/\/\/[^@/]*@/g, '//***@');
