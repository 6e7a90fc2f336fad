import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for the network between the bridge and Meta's media endpoints: it passes the two
 * documented steps (GET /{version}/{media-id}, then GET of the returned URL with the same bearer
 * token; Meta Media reference) through to a simulator, pointing the download URL at itself, and
 * can make one media id's downloads stall: the status line, headers and the first bytes of the
 * real answer, then silence until the test opens the gate or the bridge hangs up.
 */
export interface MediaGate {
  /** Use as WA_BRIDGE_CLOUD_API_BASE_URL. */
  readonly url: string;
  /** The simulator's base URL; set before the bridge asks for media. */
  target: string | undefined;
  /** Downloads of `mediaId` from now on send `bytes` bytes of the body and then nothing. */
  stall(mediaId: string, bytes: number): void;
  /** Downloads of `mediaId` from now on are passed through whole. */
  open(mediaId: string): void;
  /** Download requests for `mediaId` so far, stalled or passed through. */
  downloads(mediaId: string): number;
  /** Downloads of `mediaId` that stalled and were then hung up by the client. */
  abandoned(mediaId: string): number;
  stop(): Promise<void>;
}

export async function startMediaGate(): Promise<MediaGate> {
  const stalls = new Map<string, number>();
  const downloads = new Map<string, number>();
  const abandoned = new Map<string, number>();
  const held = new Set<ServerResponse>();
  let origin = '';

  const gate = {
    target: undefined as string | undefined,
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!gate.target) {
      res.writeHead(503).end();
      return;
    }
    const path = req.url ?? '/';
    const upstream = await fetch(`${gate.target}${path}`, { headers: req.headers.authorization ? { authorization: req.headers.authorization } : {} });
    const body = Buffer.from(await upstream.arrayBuffer());
    const headers: Record<string, string> = {};
    for (const name of ['content-type', 'www-authenticate']) {
      const value = upstream.headers.get(name);
      if (value) headers[name] = value;
    }
    const mediaId = new URL(path, 'http://gate').searchParams.get('mid');
    if (path.startsWith('/whatsapp_business/attachments/') && mediaId) {
      downloads.set(mediaId, (downloads.get(mediaId) ?? 0) + 1);
      const stallAfter = stalls.get(mediaId);
      if (stallAfter !== undefined && upstream.ok) {
        res.writeHead(upstream.status, { ...headers, 'content-length': String(body.length) });
        res.write(body.subarray(0, stallAfter));
        held.add(res);
        res.on('close', () => {
          held.delete(res);
          if (!res.writableFinished) abandoned.set(mediaId, (abandoned.get(mediaId) ?? 0) + 1);
        });
        return;
      }
    }
    let out = body;
    if (upstream.ok && headers['content-type']?.startsWith('application/json')) {
      // The lookup answer: its download URL must lead back through the gate.
      const json = JSON.parse(body.toString('utf8')) as { url?: unknown };
      if (typeof json.url === 'string') {
        const download = new URL(json.url);
        json.url = `${origin}${download.pathname}${download.search}`;
        out = Buffer.from(JSON.stringify(json), 'utf8');
      }
    }
    res.writeHead(upstream.status, { ...headers, 'content-length': String(out.length) }).end(out);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return Object.assign(gate, {
    url: origin,
    stall: (mediaId: string, bytes: number) => void stalls.set(mediaId, bytes),
    open: (mediaId: string) => void stalls.delete(mediaId),
    downloads: (mediaId: string) => downloads.get(mediaId) ?? 0,
    abandoned: (mediaId: string) => abandoned.get(mediaId) ?? 0,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        for (const res of held) res.destroy();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  });
}
