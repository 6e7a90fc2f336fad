import express, { type Router } from 'express';
import { sendProblem } from '../../api/problem.js';
import { renderQrSvg } from './qr.js';
import type { WhatsAppWebSession } from './session.js';

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The page an IT admin opens to link the firm's phone: the session's state and, while linking,
 * the QR code (or the pairing code). Until sign-in exists it answers only requests from this
 * machine: a QR code shown to anyone would let them link their own WhatsApp to the firm mailbox.
 */
export function whatsappWebAdminRouter(session: WhatsAppWebSession): Router {
  const router = express.Router();
  router.use((req, res, next) => {
    const ip = req.socket.remoteAddress ?? '';
    if (ip === '127.0.0.1' || ip === '::1' || ip === '::ffff:127.0.0.1') return next();
    sendProblem(res, 403, 'loopback_only', 'The WhatsApp linking page is only served to the machine the bridge runs on.');
  });
  router.get('/status', (_req, res) => {
    const { qr: _qr, ...status } = session.status();
    res.json(status);
  });
  router.get('/', async (_req, res) => {
    const status = session.status();
    const qr = status.state === 'qr' && status.qr ? await renderQrSvg(status.qr) : '';
    const body = [
      '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">',
      '<title>wa-bridge · link WhatsApp (whatsapp-web.js)</title>',
      '<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1f1f1f}.warn{background:#fff4ce;border-left:4px solid #c19c00;padding:.75rem 1rem}</style></head><body>',
      '<h1>Link the firm\u2019s WhatsApp number</h1>',
      '<p class="warn">whatsapp-web.js is an unofficial client: WhatsApp may ban a number that uses it. The WhatsApp Business Cloud API is the supported channel.</p>',
      `<p>State: <strong>${escape(status.state)}</strong>${status.businessId ? ` · linked number +${escape(status.businessId)}` : ''}</p>`,
      status.pairingCode ? `<p>On the phone: Linked devices → Link with phone number, then enter <strong style="font-size:1.5rem;letter-spacing:.2em">${escape(status.pairingCode)}</strong></p>` : '',
      qr ? `<p>On the phone: Linked devices → Link a device, then scan:</p><div style="width:320px">${qr}</div>` : '',
      status.state === 'standby' ? `<p>${escape(status.standby ?? 'Another bridge instance runs the session.')} Open this page on that instance to link or check the phone; this one takes over by itself if that instance stops.</p>` : '',
      status.lastError ? `<p>Last problem: ${escape(status.lastError)}</p>` : '',
      '</body></html>',
    ].join('\n');
    res.type('html').send(body);
  });
  return router;
}
