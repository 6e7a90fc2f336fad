import { describe, expect, it } from 'vitest';
import { renderQrSvg, renderQrTerminal } from './qr.js';

const qr = '2@Zk9nN1vWq3xE8hYpLmQ0rT5uV7wX,Jt8mKp0aBcDeFgHiJkLmNoPqRsTuVwXyZ01234567=,Qa7bYcZ3dE4fG5hI6jK7lM==,Nn8oOp9qQr0sSt1uUv2w';

describe('QR rendering', () => {
  it('renders an SVG document for the admin page', async () => {
    const svg = await renderQrSvg(qr);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg).toContain('<path');
    expect(svg).not.toContain(qr);
  });

  it('renders lines of block characters for the terminal', async () => {
    const lines = (await renderQrTerminal(qr)).split('\n').filter((line) => line.trim() !== '');
    expect(lines.length).toBeGreaterThan(20);
    expect(lines.join('')).toMatch(/[▀▄█]/);
  });
});
