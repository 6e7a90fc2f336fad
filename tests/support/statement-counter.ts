import net from 'node:net';

/**
 * A TCP proxy in front of a PostgreSQL server that counts the round trips its clients start: each
 * simple query ('Q') and each extended-protocol Sync ('S'), which node-postgres sends once per
 * statement. It reads the client's side of the wire only and forwards every byte unchanged, so what
 * it counts is what the bridge really sends, not what its code meant to send.
 */
export interface StatementCounter {
  /** `serverUrl` with its host and port replaced by the proxy's. */
  url(serverUrl: string): string;
  /** Round trips since the last reset. */
  readonly count: number;
  /** The SQL of each of those round trips, in order (whitespace folded). */
  readonly statements: readonly string[];
  reset(): void;
  stop(): Promise<void>;
}

export async function startStatementCounter(target: { host: string; port: number }): Promise<StatementCounter> {
  let statements: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    sockets.add(client).add(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    upstream.pipe(client);
    const reader = frontendReader((text) => statements.push(text));
    client.on('data', (chunk: Buffer) => {
      reader(chunk);
      upstream.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url(serverUrl) {
      const url = new URL(serverUrl);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.toString();
    },
    get count() {
      return statements.length;
    },
    get statements() {
      return statements;
    },
    reset() {
      statements = [];
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Splits the frontend half of a connection into messages (PostgreSQL protocol 3, "Message
 * Formats"): untyped ones (SSL request, startup) until the startup message, then a type byte and
 * an int32 length each. Reports a round trip per 'Q' and per 'S', the latter with the SQL of the
 * statement its 'B' (Bind) named: parsed just before it, or once per connection for a named one.
 */
function frontendReader(onRoundTrip: (text: string) => void): (chunk: Buffer) => void {
  let buffered = Buffer.alloc(0);
  let started = false;
  // Statement texts by name ('' is the unnamed one, parsed again for each use), and the one bound last.
  const prepared = new Map<string, string>();
  let bound = '';
  const cString = (body: Buffer, from: number): string => body.subarray(from, body.indexOf(0, from)).toString('utf8');
  const fold = (text: string) => text.replace(/\s+/g, ' ').trim();
  return (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (;;) {
      if (!started) {
        if (buffered.length < 8) return;
        const length = buffered.readInt32BE(0);
        if (buffered.length < length) return;
        // 196608 is protocol 3.0; SSL and GSS requests carry other codes and precede it.
        if (buffered.readInt32BE(4) === 196608) started = true;
        buffered = buffered.subarray(length);
        continue;
      }
      if (buffered.length < 5) return;
      const length = buffered.readInt32BE(1);
      if (buffered.length < length + 1) return;
      const type = String.fromCharCode(buffered[0]!);
      const body = buffered.subarray(5, length + 1);
      if (type === 'Q') onRoundTrip(fold(cString(body, 0)));
      else if (type === 'P') prepared.set(cString(body, 0), fold(cString(body, body.indexOf(0) + 1)));
      else if (type === 'B') bound = prepared.get(cString(body, body.indexOf(0) + 1)) ?? '';
      else if (type === 'S') onRoundTrip(bound);
      buffered = buffered.subarray(length + 1);
    }
  };
}
