import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';

/**
 * Renders the add-in and Teams icons from one SVG drawing in the system Chromium, so the PNGs in
 * the repository can be regenerated exactly: `npx tsx addin/scripts/render-icons.ts`.
 * Office wants 16/32/64/80/128 px; Teams wants a 192 px colour icon and a 32 px outline icon that is
 * white on a transparent background.
 */

const repo = path.resolve(import.meta.dirname, '../..');

// A speech bubble with three dots on the firm's green; the outline variant keeps only the bubble.
const colour = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">
  <rect width="64" height="64" rx="12" fill="#0f6b4f"/>
  <path d="M14 16h36a6 6 0 0 1 6 6v18a6 6 0 0 1-6 6H27l-10 9v-9h-3a6 6 0 0 1-6-6V22a6 6 0 0 1 6-6z" fill="#ffffff"/>
  <circle cx="22" cy="31" r="3.5" fill="#0f6b4f"/><circle cx="32" cy="31" r="3.5" fill="#0f6b4f"/><circle cx="42" cy="31" r="3.5" fill="#0f6b4f"/>
</svg>`;
const outline = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
  <path d="M6 6.5h20a3 3 0 0 1 3 3v10a3 3 0 0 1-3 3H14l-6 5v-5H6a3 3 0 0 1-3-3v-10a3 3 0 0 1 3-3z" fill="none" stroke="#ffffff" stroke-width="2" stroke-linejoin="round"/>
  <circle cx="10.5" cy="14.5" r="1.6" fill="#ffffff"/><circle cx="16" cy="14.5" r="1.6" fill="#ffffff"/><circle cx="21.5" cy="14.5" r="1.6" fill="#ffffff"/>
</svg>`;

const targets: { file: string; svg: string; size: number }[] = [
  ...[16, 32, 64, 80, 128].map((size) => ({ file: `addin/public/icons/icon-${size}.png`, svg: colour, size })),
  { file: 'teams-app/icons/color.png', svg: colour, size: 192 },
  { file: 'teams-app/icons/outline.png', svg: outline, size: 32 },
];

const browser = await chromium.launch({
  executablePath: process.env.WA_BRIDGE_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
try {
  for (const { file, svg, size } of targets) {
    const page = await browser.newPage({ viewport: { width: size, height: size } });
    await page.setContent(`<html><body style="margin:0;background:transparent">${svg.replace('<svg ', `<svg width="${size}" height="${size}" `)}</body></html>`);
    await writeFile(path.join(repo, file), await page.screenshot({ omitBackground: true, type: 'png' }));
    await page.close();
    console.log(`${file} ${size}x${size}`);
  }
} finally {
  await browser.close();
}
