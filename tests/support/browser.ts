import { chromium, type Browser, type Page } from 'playwright-core';

/**
 * Headless Chromium for end-to-end tests: the system's Debian build (or WA_BRIDGE_CHROMIUM),
 * never a downloaded one, with flags that suit a root user in a container. The background
 * networking switches keep the browser from calling anything but the page under test.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.WA_BRIDGE_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * A page of the sandbox in a new context of `browser`, 1360 by 900. A request to anything `local`
 * does not accept is aborted and, like a script error or a console error, written to `problems`;
 * the one console error let through is a mirrored mail's script stopped by its frame's sandbox.
 */
export async function openSandboxPage(browser: Browser, local: (url: URL) => boolean, problems: string[]): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  await context.route(
    (url) => !local(url),
    (route) => {
      problems.push(`outside request: ${route.request().url()}`);
      return route.abort();
    },
  );
  const page = await context.newPage();
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith("Blocked script execution in 'about:srcdoc'")) problems.push(`console: ${message.text()}`);
  });
  return page;
}
