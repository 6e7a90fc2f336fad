/**
 * The one module that talks to teams-js. Components receive a `HostInfo` and never import the SDK,
 * so the tab also runs in a plain browser tab (the sandbox) without Teams.
 */

export type TeamsTheme = 'light' | 'dark' | 'contrast';

export interface TeamsHost {
  kind: 'teams';
  theme: TeamsTheme;
  /** 'content' for a tab, 'settings' on the channel tab's configuration page. */
  frameContext: string;
  /** The channel tab's saved entity id (our matter id), absent in the personal tab. */
  entityId: string | null;
  channelName: string | null;
  userPrincipalName: string | null;
  onThemeChange(listener: (theme: TeamsTheme) => void): void;
  /** Teams SSO: a token for the tab's own API, issued by Teams for the signed-in user. */
  getAuthToken(): Promise<string>;
  /** Configuration page only: report whether Save may be pressed, and what saving binds. */
  configure(valid: boolean, save?: () => ChannelTabSettings): void;
}

export interface ChannelTabSettings {
  entityId: string;
  contentUrl: string;
  suggestedDisplayName: string;
}

export interface NoHost {
  kind: 'none';
  theme: TeamsTheme;
}

export type HostInfo = TeamsHost | NoHost;

/**
 * Initializes teams-js. Outside Teams it rejects at once ("No Parent window found"), which means a
 * plain browser: the tab then runs against the sandbox's demo sign-in. A page that is not in a
 * frame cannot be in Teams, and does not load teams-js at all: the library asks Microsoft's CDN
 * for its list of host domains as soon as it is loaded, which a plain browser has no use for.
 */
export async function connectTeams(): Promise<HostInfo> {
  if (window.parent === window) return { kind: 'none', theme: browserTheme() };
  const { app, authentication, pages } = await import('@microsoft/teams-js');
  try {
    await app.initialize();
  } catch {
    return { kind: 'none', theme: browserTheme() };
  }
  const context = await app.getContext();
  let saveHandlerRegistered = false;
  let settingsForSave: (() => ChannelTabSettings) | undefined;
  return {
    kind: 'teams',
    theme: toTheme(context.app.theme),
    frameContext: String(context.page.frameContext ?? 'content'),
    entityId: context.page.id || null,
    channelName: context.channel?.displayName ?? null,
    userPrincipalName: context.user?.userPrincipalName ?? null,
    onThemeChange: (listener) => app.registerOnThemeChangeHandler((theme) => listener(toTheme(theme))),
    getAuthToken: () => authentication.getAuthToken(),
    configure: (valid, save) => {
      settingsForSave = save;
      if (!saveHandlerRegistered) {
        saveHandlerRegistered = true;
        pages.config.registerOnSaveHandler((event) => {
          const settings = settingsForSave?.();
          if (!settings) return event.notifyFailure('Choose a matter first.');
          pages.config.setConfig({ ...settings, websiteUrl: settings.contentUrl }).then(
            () => event.notifySuccess(),
            (error: unknown) => event.notifyFailure(error instanceof Error ? error.message : String(error)),
          );
        });
      }
      pages.config.setValidityState(valid);
    },
  };
}

function toTheme(theme: string | undefined): TeamsTheme {
  if (theme === 'dark') return 'dark';
  if (theme === 'contrast') return 'contrast';
  return 'light';
}

function browserTheme(): TeamsTheme {
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}
