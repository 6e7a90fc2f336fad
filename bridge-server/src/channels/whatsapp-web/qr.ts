
/**
 * Renders the linking QR code WhatsApp Web shows (the `qr` event's string, whatsapp-web.js docs).
 * Pure apart from CPU: no I/O. The string is a secret while it is valid (anyone who scans it
 * links their phone as this bridge), so callers show it only to an admin and never log it.
 */

/** An SVG document for the admin page. Error correction M, as WhatsApp Web's own code uses. */
export async function renderQrSvg(qr: string): Promise<string> {
  return (await qrcode()).toString(qr, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}

/** Text for a terminal: half-height blocks, so the code fits an 80-column window. */
export async function renderQrTerminal(qr: string): Promise<string> {
  return (await qrcode()).toString(qr, { type: 'terminal', small: true, errorCorrectionLevel: 'M' });
}

/** The QR library, loaded when a code is first shown: a bridge that is linked never needs it. */
async function qrcode(): Promise<typeof import('qrcode')> {
  return (await import('qrcode')).default;
}
