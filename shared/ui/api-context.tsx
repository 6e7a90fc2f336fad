import { createApiClient, type ApiClient } from '@wa-bridge/shared/api/client';
import type { Me } from '@wa-bridge/shared/api/account';
import { createContext, useContext, type ReactNode } from 'react';

/**
 * The signed-in session both front ends hand to the shared views: a typed API client and who the
 * user is. Provided once at the root, after sign-in, so views never deal with tokens.
 */
export interface Session {
  api: ApiClient;
  me: Me;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ session, children }: { session: Session; children: ReactNode }) {
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}

/** A source of access tokens, tried in order by `signIn`. */
export interface TokenSource {
  /** Shown to the user, e.g. "Outlook single sign-on". */
  label: string;
  getToken(): Promise<string>;
  /** Forgets the token it holds, so the next getToken gets a new one (after a 401). */
  renew?(): Promise<void>;
}

export interface SignedIn {
  session: Session;
  source: TokenSource;
  /** The sandbox's notice when the user is the made-up demo identity. */
  sandboxNotice: string | null;
}

/**
 * Signs in against the bridge on the same origin. A sandbox bridge hands out a demo token (and
 * says so); a real one answers 404 there, and the host's single sign-on is used instead.
 */
export async function signIn(hostSources: TokenSource[]): Promise<SignedIn> {
  const anonymous = createApiClient({ baseUrl: '', getToken: () => Promise.reject(new Error('no token needed')) });
  const sandbox = await anonymous.sandboxToken().catch(() => null);
  const sources: TokenSource[] = sandbox ? [sandboxSource(anonymous, sandbox)] : hostSources;
  const problems: string[] = [];
  for (const source of sources) {
    try {
      await source.getToken();
      const api = createApiClient({ baseUrl: '', getToken: () => source.getToken(), ...(source.renew ? { renewToken: () => source.renew!() } : {}) });
      const me = await api.me();
      return { session: { api, me }, source, sandboxNotice: sandbox?.notice ?? null };
    } catch (error) {
      problems.push(`${source.label}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new Error(problems.length > 0 ? `Sign-in failed. ${problems.join(' ')}` : 'Sign-in is not available here: open this page inside Outlook or Teams.');
}

function sandboxSource(anonymous: ApiClient, first: Awaited<ReturnType<ApiClient['sandboxToken']>>): TokenSource {
  let current = first;
  return {
    label: 'Sandbox demo sign-in',
    async getToken() {
      if (Date.parse(current.expiresAt) - Date.now() < 60_000) current = await anonymous.sandboxToken();
      return current.accessToken;
    },
    // A sandbox bridge signs its demo tokens with a key made at each start: after a restart it
    // refuses the old one, and a new one is a request away.
    async renew() {
      current = await anonymous.sandboxToken();
    },
  };
}
