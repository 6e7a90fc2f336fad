import type { MailAttachment } from '../mail.js';
import { escapeHtml, quietColor } from './html.js';

/** The part of a mail that depends on the event kind. */
export interface EventBody {
  /** What happened, for the header table: "Message", "Edited message", "Reaction" ... */
  label: string;
  text: string;
  /** HTML fragment, already escaped. */
  html: string;
  attachments: MailAttachment[];
}

export interface MailFrame {
  subject: string;
  /** Label and plain-text value pairs shown above the content (sender, time, event ...). */
  rows: Array<[string, string]>;
  body: EventBody;
}

// The "-- " line is the Usenet signature delimiter (RFC 3676 4.3): reply parsers and mail
// clients treat what follows as a signature and leave it out of quoted replies.
const footerText = 'Mirrored from WhatsApp by wa-bridge. Reply to this email to answer the client on WhatsApp.';

function textLayout(frame: MailFrame): string {
  return [
    ...frame.rows.map(([label, value]) => `${label}: ${value}`),
    '',
    frame.body.text,
    '',
    '-- ',
    footerText,
    '',
  ].join('\n');
}

const cell = 'padding:2px 16px 2px 0;vertical-align:top;';

function headerRow([label, value]: [string, string]): string {
  return `<tr><td style="${cell}font-weight:600;color:#555555;">${escapeHtml(label)}</td><td style="${cell}">${escapeHtml(value)}</td></tr>`;
}

function htmlLayout(frame: MailFrame): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(frame.subject)}</title></head>`,
    '<body style="margin:0;padding:0;background-color:#ffffff;">',
    `<div style="font-family:'Segoe UI',Helvetica,Arial,sans-serif;font-size:14px;line-height:1.5;color:#1f1f1f;max-width:720px;padding:16px;">`,
    '<table role="presentation" cellpadding="0" cellspacing="0" style="border-collapse:collapse;margin:0 0 12px 0;font-size:12px;">',
    ...frame.rows.map(headerRow),
    '</table>',
    `<div style="border-top:1px solid #e0e0e0;padding-top:12px;">\n${frame.body.html}\n</div>`,
    `<p style="margin:16px 0 0 0;padding-top:8px;border-top:1px solid #e0e0e0;font-size:11px;color:${quietColor};">${escapeHtml(footerText)}</p>`,
    '</div>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** The full text/plain and text/html bodies: heading rows (sender, time, event), content, footer. */
export function layoutMail(frame: MailFrame): { text: string; html: string } {
  return { text: textLayout(frame), html: htmlLayout(frame) };
}
