import express, { type Router } from 'express';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sendProblem } from './problem.js';

/**
 * Serves the built front ends: the Outlook task pane under /addin/ (plus the bridge's own copy of
 * office.js under /addin/office-js/, so the pane loads nothing from a CDN) and the Teams tab under
 * /teams/. `npm run build:ui` writes the bundles; without them the paths answer a 503 that says so.
 */
export interface StaticUiPaths {
  addinDist: string;
  teamsDist: string;
  officeJsDist: string;
}

export function defaultStaticUiPaths(): StaticUiPaths {
  const repo = fileURLToPath(new URL('../../../', import.meta.url));
  const officeJsPackage = createRequire(import.meta.url).resolve('@microsoft/office-js/package.json');
  return {
    addinDist: path.join(repo, 'addin', 'dist'),
    teamsDist: path.join(repo, 'teams-app', 'dist'),
    officeJsDist: path.join(path.dirname(officeJsPackage), 'dist'),
  };
}

export function staticUiRouter(paths: StaticUiPaths = defaultStaticUiPaths()): Router {
  const router = express.Router();
  router.use('/addin/office-js', express.static(paths.officeJsDist, { index: false, maxAge: '1d' }));
  router.use('/addin', frontEnd(paths.addinDist, 'Outlook add-in'));
  router.use('/teams', frontEnd(paths.teamsDist, 'Teams tab'));
  // Browsers ask for it on every page; the add-in's own icon rather than a 404 in every console.
  router.get('/favicon.ico', (_req, res) => {
    const icon = path.join(paths.addinDist, 'icons', 'icon-32.png');
    if (!existsSync(icon)) return void res.status(204).end();
    res.sendFile(icon, { maxAge: '1d', headers: { 'Content-Type': 'image/png' } });
  });
  return router;
}

const frameAncestors = [
  "'self'",
  'https://*.office.com',
  'https://*.office365.com',
  'https://*.outlook.com',
  'https://*.microsoft365.com',
  'https://*.cloud.microsoft',
  'https://teams.microsoft.com',
  'https://*.teams.microsoft.com',
  'https://teams.live.com',
].join(' ');

function frontEnd(dist: string, name: string): Router {
  const router = express.Router();
  router.use((_req, res, next) => {
    // Office and Teams show the pages inside their own frames; nothing else should.
    res.setHeader('Content-Security-Policy', `frame-ancestors ${frameAncestors}`);
    if (existsSync(path.join(dist, 'index.html'))) return next();
    sendProblem(res, 503, 'ui_not_built', `The ${name} is not built. Run "npm run build:ui" (npm start does it first).`);
  });
  // Hashed bundles never change under the same name; the pages themselves must always be fresh.
  router.use('/assets', express.static(path.join(dist, 'assets'), { immutable: true, maxAge: '1y' }));
  router.use(
    express.static(dist, {
      setHeaders: (res, file) => {
        if (file.endsWith('.html')) res.setHeader('Cache-Control', 'no-cache');
      },
    }),
  );
  return router;
}
