import { createHash, randomBytes } from 'node:crypto';
import { createServer, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadInputError, UpstreamError } from '../../core/errors.js';
import { startSimulator, type Simulator } from '../simulator/server.js';
import { CloudMediaFetcher, decodeSha256 } from './media.js';

const accessToken = 'EAAG-test-token-5d1e';
let simulator: Simulator;

beforeAll(async () => {
  simulator = await startSimulator({ appSecret: 'media-test-secret', accessToken });
});
afterAll(async () => {
  await simulator.stop();
});

const fetcher = (overrides: Partial<ConstructorParameters<typeof CloudMediaFetcher>[0]> = {}) =>
  new CloudMediaFetcher({ baseUrl: simulator.url, accessToken, timeoutMs: 5_000, ...overrides });

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the fetch to fail');
}

/** A one-off loopback server for upstream behaviour the simulator does not fake. */
async function withServer(handler: RequestListener, run: (url: string) => Promise<void>): Promise<void> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('CloudMediaFetcher against the simulator', () => {
  const businessId = () => simulator.business.phoneNumberId;

  it('downloads media in two steps and checks it against the webhook (base64) hash', async () => {
    const bytes = randomBytes(70_000);
    const media = simulator.addMedia(bytes, 'application/pdf');
    const result = await fetcher().fetch({ waMediaId: media.id, businessId: businessId(), announcedSha256: media.sha256 });
    expect(result.mimeType).toBe('application/pdf');
    expect(result.bytes.equals(bytes)).toBe(true);
  });

  it('accepts a hex announced hash as well', async () => {
    const bytes = Buffer.from('%PDF-1.7 lease');
    const media = simulator.addMedia(bytes, 'application/pdf');
    const hex = createHash('sha256').update(bytes).digest('hex');
    await expect(fetcher().fetch({ waMediaId: media.id, businessId: businessId(), announcedSha256: hex })).resolves.toMatchObject({ mimeType: 'application/pdf' });
  });

  it('refuses bytes that do not match the announced hash', async () => {
    const media = simulator.addMedia(Buffer.from('the real bytes'), 'image/jpeg');
    const otherHash = createHash('sha256').update('other bytes').digest('base64');
    const error = await failure(fetcher().fetch({ waMediaId: media.id, businessId: businessId(), announcedSha256: otherHash }));
    expect(error).toBeInstanceOf(BadInputError);
    expect(error).toMatchObject({ code: 'media_hash_mismatch' });
  });

  it('refuses an announced hash it cannot read instead of skipping the check', async () => {
    const media = simulator.addMedia(Buffer.from('bytes'), 'image/jpeg');
    const error = await failure(fetcher().fetch({ waMediaId: media.id, businessId: businessId(), announcedSha256: '3c1f0a…e9' }));
    expect(error).toMatchObject({ code: 'media_hash_mismatch' });
  });

  it.each([503, 500, 429])('classifies a %i download as transient, and the retry succeeds', async (status) => {
    const bytes = Buffer.from(`voice note ${status}`);
    const media = simulator.addMedia(bytes, 'audio/ogg');
    simulator.failNextMediaDownloads(1, status);
    const error = await failure(fetcher().fetch({ waMediaId: media.id, businessId: businessId(), announcedSha256: media.sha256 }));
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ service: 'whatsapp-media', retry: 'transient', upstreamStatus: status });
    const retried = await fetcher().fetch({ waMediaId: media.id, businessId: businessId(), announcedSha256: media.sha256 });
    expect(retried.bytes.equals(bytes)).toBe(true);
  });

  it('classifies a download refused with 401 (stale URL) as transient', async () => {
    const media = simulator.addMedia(Buffer.from('x'), 'image/png');
    simulator.failNextMediaDownloads(1, 401);
    expect(await failure(fetcher().fetch({ waMediaId: media.id, businessId: businessId(), announcedSha256: null }))).toMatchObject({ retry: 'transient', upstreamStatus: 401 });
  });

  it('classifies an expired download URL as transient, since a retry looks the id up again', async () => {
    const expiring = await startSimulator({ appSecret: 's', accessToken, mediaUrlTtlMs: -1_000 });
    try {
      const media = expiring.addMedia(Buffer.from('x'), 'image/png');
      const error = await failure(fetcher({ baseUrl: expiring.url }).fetch({ waMediaId: media.id, businessId: expiring.business.phoneNumberId, announcedSha256: null }));
      expect(error).toMatchObject({ retry: 'transient', upstreamStatus: 404 });
    } finally {
      await expiring.stop();
    }
  });

  it('classifies a rejected access token (401, Graph code 190) as permanent without echoing it', async () => {
    const media = simulator.addMedia(Buffer.from('x'), 'image/png');
    const error = await failure(fetcher({ accessToken: 'EAAG-revoked-token' }).fetch({ waMediaId: media.id, businessId: businessId(), announcedSha256: null }));
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ retry: 'permanent', upstreamStatus: 401 });
    expect((error as Error).message).toContain('190');
    expect((error as Error).message).not.toContain('revoked');
  });

  it('classifies an unknown media id and a media id of another number as permanent', async () => {
    expect(await failure(fetcher().fetch({ waMediaId: '9999999999999999', businessId: businessId(), announcedSha256: null }))).toMatchObject({ retry: 'permanent', upstreamStatus: 400 });
    const media = simulator.addMedia(Buffer.from('x'), 'image/png');
    expect(await failure(fetcher().fetch({ waMediaId: media.id, businessId: '999000111222333', announcedSha256: null }))).toMatchObject({ retry: 'permanent' });
  });

  it('refuses media over the size limit announced by the lookup, as permanent', async () => {
    const media = simulator.addMedia(randomBytes(2048), 'video/mp4');
    expect(await failure(fetcher({ maxBytes: 1024 }).fetch({ waMediaId: media.id, businessId: businessId(), announcedSha256: null }))).toMatchObject({ retry: 'permanent' });
  });
});

describe('CloudMediaFetcher against misbehaving upstreams', () => {
  it('stops reading a download that grows past the limit when nothing announced its size', async () => {
    let written = 0;
    await withServer(
      (req, res) => {
        if (req.url?.startsWith('/v23.0/')) {
          res.setHeader('Content-Type', 'application/json');
          return res.end(JSON.stringify({ messaging_product: 'whatsapp', url: `http://${req.headers.host}/blob`, mime_type: 'video/mp4', id: '1' }));
        }
        res.writeHead(200, { 'Content-Type': 'video/mp4' });
        const timer = setInterval(() => {
          written += 16_384;
          res.write(Buffer.alloc(16_384));
          if (written > 8_000_000) {
            clearInterval(timer);
            res.end();
          }
        }, 1);
        res.on('close', () => clearInterval(timer));
      },
      async (url) => {
        const error = await failure(new CloudMediaFetcher({ baseUrl: url, accessToken, maxBytes: 100_000 }).fetch({ waMediaId: '1', businessId: '2', announcedSha256: null }));
        expect(error).toMatchObject({ retry: 'permanent' });
        expect(written).toBeLessThan(8_000_000);
      },
    );
  });

  it('classifies a lookup that does not answer in time as transient', async () => {
    await withServer(
      () => undefined,
      async (url) => {
        const error = await failure(new CloudMediaFetcher({ baseUrl: url, accessToken, timeoutMs: 200 }).fetch({ waMediaId: '1', businessId: '2', announcedSha256: null }));
        expect(error).toMatchObject({ retry: 'transient' });
        expect((error as Error).message).toContain('200 ms');
      },
    );
  });

  /** Lookup answers for media id 1, pointing at /blob of the same server; `download` serves /blob. */
  const mediaServer =
    (download: (res: ServerResponse) => void): RequestListener =>
    (req, res) => {
      if (req.url?.startsWith('/v23.0/')) {
        res.setHeader('Content-Type', 'application/json');
        return res.end(JSON.stringify({ messaging_product: 'whatsapp', url: `http://${req.headers.host}/blob`, mime_type: 'application/pdf', id: '1' }));
      }
      download(res);
    };

  it('gives up on a download that sends its headers and part of its body, then nothing', async () => {
    await withServer(
      mediaServer((res) => {
        res.writeHead(200, { 'Content-Type': 'application/pdf', 'Content-Length': '100000' });
        res.write(Buffer.alloc(30_000));
      }),
      async (url) => {
        const error = await failure(new CloudMediaFetcher({ baseUrl: url, accessToken, timeoutMs: 300 }).fetch({ waMediaId: '1', businessId: '2', announcedSha256: null }));
        expect(error).toMatchObject({ retry: 'transient' });
        expect((error as Error).message).toBe('Could not download media 1: no data for 300 ms (30000 of 100000 bytes, discarded).');
      },
    );
  });

  it('keeps reading a slow download that keeps sending, past the silence limit in all', async () => {
    const body = randomBytes(20 * 1024);
    await withServer(
      mediaServer((res) => {
        res.writeHead(200, { 'Content-Type': 'application/pdf', 'Content-Length': String(body.length) });
        let sent = 0;
        const timer = setInterval(() => {
          res.write(body.subarray(sent, sent + 1024));
          sent += 1024;
          if (sent >= body.length) {
            clearInterval(timer);
            res.end();
          }
        }, 100);
        res.on('close', () => clearInterval(timer));
      }),
      async (url) => {
        // 20 pieces 100 ms apart: about 2 s in all, never 1 s without data.
        const media = await new CloudMediaFetcher({ baseUrl: url, accessToken, timeoutMs: 1000 }).fetch({ waMediaId: '1', businessId: '2', announcedSha256: createHash('sha256').update(body).digest('hex') });
        expect(media.bytes.equals(body)).toBe(true);
      },
    );
  });

  it('gives up on a download that trickles on past the whole-download deadline', async () => {
    await withServer(
      mediaServer((res) => {
        res.writeHead(200, { 'Content-Type': 'application/pdf', 'Content-Length': '100000' });
        const timer = setInterval(() => res.write(Buffer.alloc(10)), 50);
        res.on('close', () => clearInterval(timer));
      }),
      async (url) => {
        const error = await failure(new CloudMediaFetcher({ baseUrl: url, accessToken, timeoutMs: 1000, deadlineMs: 1500 }).fetch({ waMediaId: '1', businessId: '2', announcedSha256: null }));
        expect(error).toMatchObject({ retry: 'transient' });
        expect((error as Error).message).toMatch(/^Could not download media 1: not finished within 1500 ms \(\d+ of 100000 bytes, discarded\)\.$/);
      },
    );
  });

  it('classifies a refused connection as transient', async () => {
    let closedUrl = '';
    await withServer(() => undefined, async (url) => void (closedUrl = url));
    const error = await failure(new CloudMediaFetcher({ baseUrl: closedUrl, accessToken }).fetch({ waMediaId: '1', businessId: '2', announcedSha256: null }));
    expect(error).toMatchObject({ retry: 'transient' });
    expect((error as Error).message).toContain('ECONNREFUSED');
  });

  it('classifies a 5xx lookup as transient', async () => {
    await withServer(
      (_req, res) => {
        res.writeHead(502).end();
      },
      async (url) => {
        expect(await failure(new CloudMediaFetcher({ baseUrl: url, accessToken }).fetch({ waMediaId: '1', businessId: '2', announcedSha256: null }))).toMatchObject({ retry: 'transient', upstreamStatus: 502 });
      },
    );
  });
});

describe('decodeSha256', () => {
  it('reads hex and base64 (standard and url-safe) digests and nothing else', () => {
    const digest = createHash('sha256').update('x').digest();
    expect(decodeSha256(digest.toString('hex'))?.equals(digest)).toBe(true);
    expect(decodeSha256(digest.toString('hex').toUpperCase())?.equals(digest)).toBe(true);
    expect(decodeSha256(digest.toString('base64'))?.equals(digest)).toBe(true);
    expect(decodeSha256(digest.toString('base64url'))?.equals(digest)).toBe(true);
    expect(decodeSha256('3c1f0a…e9')).toBeUndefined();
    expect(decodeSha256('')).toBeUndefined();
  });
});
