// Puppeteer must never download its own Chrome: this machine cannot reach the browser CDN, and
// whatsapp-web.js runs the system Chromium (puppeteer.executablePath). See PLATFORM.md section 1.
/* global module */
module.exports = { skipDownload: true };
