// Puppeteer must never download its own Chrome: this machine cannot reach the browser CDN, and
// whatsapp-web.js runs the system Chromium (WA_BRIDGE_CHROMIUM_PATH).
/* global module */
module.exports = { skipDownload: true };
