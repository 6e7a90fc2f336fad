import type { BrowserContext, FrameLocator, Page } from 'playwright-core';

/**
 * A stand-in for the Teams client: a page that shows the tab in an iframe and answers teams-js's
 * postMessage calls as Teams does. `initialize` is answered with the frame context, client type,
 * runtime configuration (what the host supports) and SDK version; `getContext` with a context of
 * the documented (legacy) shape that teams-js turns into `app.Context`. Other calls are recorded
 * in `window.__teamsCalls` (the configuration page's setValidityState and setSettings, say) and
 * answered with a plain success. `window.__teams.pressSave()` plays the user pressing Save on a
 * channel tab's configuration page. `ssoToken` is what Teams SSO (`authentication.getAuthToken`) hands
 * the tab; `window.__teams.setSsoToken(token)` changes it, as when the user's roles change in Entra ID
 * while the tab is open.
 */
export function teamsHostPage(options: { tabPath: string; theme?: 'default' | 'dark'; entityId?: string; frameContext?: 'content' | 'settings'; ssoToken?: string }): string {
  const context = {
    locale: 'en-gb',
    frameContext: options.frameContext ?? 'content',
    hostClientType: 'web',
    hostName: 'Teams',
    theme: options.theme ?? 'default',
    userPrincipalName: 'case.handler@firm.test',
    userObjectId: '00000000-0000-0000-0000-00000000c45e',
    tid: '00000000-0000-0000-0000-0000000071d0',
    entityId: options.entityId ?? 'matters',
    appSessionId: '00000000-0000-0000-0000-000000005e55',
  };
  const runtime = { apiVersion: 4, supports: { appInstallDialog: {}, pages: { appButton: {}, tabs: {}, config: {}, backStack: {}, fullTrust: {} }, teamsCore: {}, authentication: {} } };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Teams (test host)</title>
<style>html,body{margin:0;height:100%}iframe{border:0;width:100%;height:100%;display:block}</style></head>
<body><iframe id="tab" title="Tab" src="${options.tabPath}"></iframe>
<script>
  window.__teamsCalls = [];
  const context = ${JSON.stringify(context)};
  const runtime = ${JSON.stringify(runtime)};
  let ssoToken = ${JSON.stringify(options.ssoToken ?? null)};
  window.addEventListener('message', (event) => {
    const request = event.data;
    if (!request || typeof request !== 'object' || typeof request.func !== 'string') return;
    window.__teamsCalls.push({ func: request.func, args: request.args });
    const answer = (args) => event.source.postMessage({ id: request.id, uuid: request.uuid, args }, event.origin);
    if (request.func === 'initialize') return answer([context.frameContext, 'web', JSON.stringify(runtime), '2.0.0']);
    if (request.func === 'getContext') return answer([context]);
    // teams-js reads [succeeded, token or reason]; without a token Teams reports the failure.
    if (request.func === 'authentication.getAuthToken') return answer(ssoToken ? [true, ssoToken] : [false, 'FailedToGetToken']);
    answer([true]);
  });
  // Teams calls the configuration page's save handler when the user presses Save.
  window.__teams = {
    pressSave: () => document.getElementById('tab').contentWindow.postMessage({ func: 'settings.save', args: [{}] }, location.origin),
    setSsoToken: (token) => { ssoToken = token; },
  };
</script></body></html>`;
}

/**
 * The personal tab of the bridge at `bridgeUrl`, inside the stand-in host in a new page of
 * `context`, signed in by Teams SSO with `ssoToken`; resolves once its Matters tab shows.
 */
export async function openPersonalTab(context: BrowserContext, bridgeUrl: string, ssoToken: string): Promise<{ page: Page; tab: FrameLocator }> {
  const page = await context.newPage();
  const body = teamsHostPage({ tabPath: '/teams/index.html?view=personal', ssoToken });
  await page.route(`${bridgeUrl}/teams-host.html`, (route) => route.fulfill({ contentType: 'text/html', body }));
  await page.goto(`${bridgeUrl}/teams-host.html`);
  const tab = page.frameLocator('#tab');
  await tab.getByRole('tab', { name: 'Matters' }).waitFor({ timeout: 20_000 });
  return { page, tab };
}
