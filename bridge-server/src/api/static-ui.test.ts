import express from 'express';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultStaticUiPaths, staticUiRouter } from './static-ui.js';

describe('staticUiRouter', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'wab-static-ui-'));
  const addinDist = path.join(root, 'addin');
  let server: Server;
  let base: string;

  beforeAll(async () => {
    mkdirSync(path.join(addinDist, 'assets'), { recursive: true });
    writeFileSync(path.join(addinDist, 'index.html'), '<!doctype html><title>pane</title>');
    writeFileSync(path.join(addinDist, 'assets', 'taskpane-abc123.js'), 'console.log(1)');
    const app = express();
    app.use(staticUiRouter({ addinDist, teamsDist: path.join(root, 'teams-not-built'), officeJsDist: defaultStaticUiPaths().officeJsDist }));
    app.use((_req, res) => void res.status(404).json({ code: 'not_found' }));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(root, { recursive: true, force: true });
  });

  it('serves the built pages fresh and the hashed bundles for a year, framable only by Office and Teams', async () => {
    const page = await fetch(`${base}/addin/index.html`);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('content-security-policy')).toMatch(/^frame-ancestors 'self' .*https:\/\/\*\.office\.com.*https:\/\/teams\.microsoft\.com/);
    const bundle = await fetch(`${base}/addin/assets/taskpane-abc123.js`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetch(`${base}/addin/`)).status).toBe(200);
  });

  it("serves the bridge's own office.js", async () => {
    const response = await fetch(`${base}/addin/office-js/office.js`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('Office');
  });

  it('answers a front end that is not built with a problem document saying how to build it', async () => {
    const response = await fetch(`${base}/teams/index.html`);
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toMatchObject({ code: 'ui_not_built', detail: expect.stringContaining('npm run build:ui') });
  });

  it('leaves unknown files to the rest of the app', async () => {
    expect((await fetch(`${base}/addin/missing.js`)).status).toBe(404);
    expect((await fetch(`${base}/addin/office-js/nope.js`)).status).toBe(404);
  });
});
