import { chromium, type Browser } from 'playwright-core';

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
