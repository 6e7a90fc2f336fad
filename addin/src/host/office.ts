import { chatIdFromHeaders, waMessageIdFromHeaders } from '@wa-bridge/shared/headers';

/**
 * The one module that talks to office-js. Everything else in the add-in sees plain promises and
 * values, so a component can never depend on a callback API or on Outlook being there.
 */

export type ThemeMode = 'light' | 'dark';

/** What the task pane learns from the mail it is opened on. */
export interface MailItemInfo {
  /** The X-WhatsApp-Chat-Id header, or null when the mail was not mirrored by the bridge. */
  chatId: string | null;
  /** The X-WhatsApp-Message-Id header: the message the mail mirrors (none on the chat's cover mail). */
  waMessageId: string | null;
  subject: string;
}

export interface OutlookHost {
  kind: 'outlook';
  platform: string;
  theme: ThemeMode;
  /** Reads the current mail's headers. Rejects with the host's message when Outlook refuses. */
  readItem(): Promise<MailItemInfo | null>;
  /** A pinned pane stays open while the user selects another mail; calls back on each change until unsubscribed. */
  onItemChanged(listener: () => void): () => void;
  /** True when the host can broker MSAL tokens (nested app authentication). */
  supportsNestedAppAuth: boolean;
  /** Office SSO: a token for the add-in's own API, issued by the host. */
  getSsoToken(): Promise<string>;
}

export interface NoHost {
  kind: 'none';
  theme: ThemeMode;
}

export type HostInfo = OutlookHost | NoHost;

/**
 * Waits for office.js. Outside Outlook (a plain browser tab, the sandbox) onReady resolves with no
 * host and the mailbox is undefined, which becomes `{ kind: 'none' }` instead of an error.
 */
export async function connectOffice(): Promise<HostInfo> {
  if (typeof Office === 'undefined') return { kind: 'none', theme: browserTheme() };
  const info = await Office.onReady();
  const mailbox = Office.context?.mailbox;
  if (String(info.host) !== 'Outlook' || !mailbox) return { kind: 'none', theme: browserTheme() };
  // One host handler for the page's lifetime; components come and go as listeners.
  const listeners = new Set<() => void>();
  mailbox.addHandlerAsync(Office.EventType.ItemChanged, () => listeners.forEach((listener) => listener()));
  return {
    kind: 'outlook',
    platform: String(info.platform ?? 'unknown'),
    theme: officeTheme() ?? browserTheme(),
    readItem: () => readItem(mailbox),
    onItemChanged: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    supportsNestedAppAuth: Office.context.requirements?.isSetSupported('NestedAppAuth', '1.1') ?? false,
    getSsoToken: () => Office.auth.getAccessToken({ allowSignInPrompt: true, allowConsentPrompt: true, forMSGraphAccess: false }),
  };
}

function readItem(mailbox: Office.Mailbox): Promise<MailItemInfo | null> {
  const item = mailbox.item as Office.MessageRead | null | undefined;
  if (!item) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    item.getAllInternetHeadersAsync((result) => {
      if (result.status === Office.AsyncResultStatus.Succeeded) {
        resolve({ chatId: chatIdFromHeaders(result.value) ?? null, waMessageId: waMessageIdFromHeaders(result.value) ?? null, subject: item.subject ?? '' });
      } else {
        reject(new Error(`Outlook could not read the mail's headers: ${result.error?.message ?? 'no reason given'}`));
      }
    });
  });
}

/** Outlook reports its theme as colours; a dark body background means a dark theme. */
function officeTheme(): ThemeMode | undefined {
  const background = Office.context?.officeTheme?.bodyBackgroundColor;
  if (!background || !/^#[0-9a-f]{6}$/i.test(background)) return undefined;
  const [r, g, b] = [1, 3, 5].map((at) => parseInt(background.slice(at, at + 2), 16) / 255) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5 ? 'dark' : 'light';
}

function browserTheme(): ThemeMode {
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}
