import { createNestablePublicClientApplication, InteractionRequiredAuthError, type IPublicClientApplication } from '@azure/msal-browser';
import type { TokenSource } from '@wa-bridge/shared/ui/api-context';
import type { OutlookHost } from '../host/office.js';

/**
 * Where the task pane gets its API token inside Outlook, best first: nested app authentication
 * (MSAL running through the host's broker) when the host supports it and the build names the app
 * registration, then Office's own SSO (`Office.auth.getAccessToken`), which every Outlook that
 * honours WebApplicationInfo offers.
 */
const clientId = import.meta.env.WA_BRIDGE_UI_CLIENT_ID as string | undefined;
const apiScope = import.meta.env.WA_BRIDGE_UI_API_SCOPE as string | undefined;

export function outlookTokenSources(host: OutlookHost): TokenSource[] {
  const sources: TokenSource[] = [];
  if (host.supportsNestedAppAuth && clientId && apiScope) sources.push(nestedAppAuth(clientId, apiScope));
  sources.push({ label: 'Office single sign-on', getToken: () => host.getSsoToken() });
  return sources;
}

function nestedAppAuth(id: string, scope: string): TokenSource {
  let app: Promise<IPublicClientApplication> | undefined;
  return {
    label: 'Nested app authentication',
    async getToken() {
      app ??= createNestablePublicClientApplication({ auth: { clientId: id, authority: 'https://login.microsoftonline.com/organizations' } });
      const msal = await app;
      const request = { scopes: [scope] };
      try {
        return (await msal.acquireTokenSilent(request)).accessToken;
      } catch (error) {
        if (!(error instanceof InteractionRequiredAuthError)) throw error;
        return (await msal.acquireTokenPopup(request)).accessToken;
      }
    },
  };
}
