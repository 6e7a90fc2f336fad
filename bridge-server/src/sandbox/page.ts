import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * The sandbox page: one self-contained HTML document (inline CSS, the inline script from
 * page-client.js, no external resources). Everything the server puts into it is HTML-escaped;
 * mail data is added later by the script through textContent only.
 */

const script = readFileSync(new URL('./page-client.js', import.meta.url), 'utf8');
const scriptHash = createHash('sha256').update(script, 'utf8').digest('base64');

/**
 * The page's Content-Security-Policy. Only its own script runs; it may talk to this origin only.
 * The srcdoc frames showing mail bodies inherit the policy, so a mail's HTML can fetch nothing
 * either; inline styles and data: images are allowed because mail bodies rely on them. The page
 * itself also shows pictures from this origin (the phone's photos); a mail's frame cannot, as its
 * own policy allows data: images only.
 */
export const sandboxPagePolicy = [
  "default-src 'none'",
  `script-src 'sha256-${scriptHash}'`,
  "style-src 'unsafe-inline'",
  "img-src data: 'self'",
  'font-src data:',
  "connect-src 'self'",
  "frame-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export interface SandboxPageOptions {
  /** Where the router is mounted, e.g. "/sandbox"; the script builds its API URLs from it. */
  basePath: string;
  firmNumber: string;
  mailbox: string;
}

const escapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (char) => escapes[char] ?? char);

const connectVariables: Array<[string, string]> = [
  ['WA_BRIDGE_CLOUD_API_APP_SECRET', 'Meta app secret; the bridge checks every webhook signature with it.'],
  ['WA_BRIDGE_CLOUD_API_VERIFY_TOKEN', 'The verify token you type into the Meta App Dashboard webhook settings.'],
  ['WA_BRIDGE_CLOUD_API_ACCESS_TOKEN', 'System-user access token, for media downloads and replies.'],
  ['WA_BRIDGE_SMTP_URL', "The firm's SMTP gateway, e.g. smtp://mail.firm.example:25."],
  ['WA_BRIDGE_MAILBOX', 'The firm address that receives the threaded emails.'],
  ['WA_BRIDGE_MAIL_DOMAIN', 'Your domain for Message-IDs and reply addresses, e.g. wa.firm.example.'],
];

export function renderSandboxPage(options: SandboxPageOptions): string {
  const firmNumber = escapeHtml(options.firmNumber);
  const mailbox = escapeHtml(options.mailbox);
  const variables = connectVariables.map(([name, doc]) => `<dt><code>${name}</code></dt><dd>${escapeHtml(doc)}</dd>`).join('\n          ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>wa-bridge sandbox</title>
<style>${styles}</style>
</head>
<body data-base="${escapeHtml(options.basePath)}">
<header class="top">
  <div class="brand"><span class="product">wa-bridge</span><span class="sandbox-tag">Sandbox</span></div>
  <p class="top-meta">Firm WhatsApp number <strong>${firmNumber}</strong><span aria-hidden="true"> · </span>Firm mailbox <strong>${mailbox}</strong></p>
</header>
<div class="banner" role="note" id="sandbox-banner">
  <strong>SANDBOX:</strong> no real WhatsApp number or mailbox is connected. Messages you type here go through a local WhatsApp Cloud API simulator, and the emails go to a local mail catcher, not to anyone.
  The solicitor's side, signed in as a demo user: the <a href="../addin/">Outlook task pane</a> (a preview outside Outlook) and the <a href="../teams/">Teams tab</a>.
</div>
<main class="layout">
  <div class="column">
    <section class="panel phone" aria-labelledby="phone-title">
      <div class="panel-head"><h2 id="phone-title">Client's phone</h2><span class="panel-sub">WhatsApp</span></div>
      <div class="panel-body">
        <p class="hint">Write as a client would. The message reaches the firm's number through the simulator's signed webhook, and the bridge relays it as email.</p>
        <form id="composer" novalidate>
          <div class="field">
            <label for="name">Client's name</label>
            <input id="name" name="name" value="Jane Smith" autocomplete="off" required aria-describedby="name-error">
            <small class="field-error" id="name-error" hidden></small>
          </div>
          <div class="field">
            <label for="phone">Client's phone number</label>
            <input id="phone" name="phone" type="tel" value="+44 7700 900123" autocomplete="off" required aria-describedby="phone-hint phone-error">
            <small class="hint" id="phone-hint">International form, 8 to 15 digits.</small>
            <small class="field-error" id="phone-error" hidden></small>
          </div>
          <div class="field">
            <label for="text">Message</label>
            <textarea id="text" name="text" rows="4" maxlength="4096" placeholder="Hello, I have a question about my case…" aria-describedby="text-hint text-error"></textarea>
            <small class="hint" id="text-hint">Ctrl+Enter sends.</small>
            <small class="field-error" id="text-error" hidden></small>
          </div>
          <div class="field">
            <label for="file">Attach a file (optional, up to 16 MB)</label>
            <input id="file" name="file" type="file" aria-describedby="file-error">
            <small class="field-error" id="file-error" hidden></small>
          </div>
          <div class="form-error" id="form-error" role="alert" hidden></div>
          <div class="actions">
            <button type="submit" id="send">Send</button>
            <span id="send-status" class="muted" role="status"></span>
          </div>
        </form>
        <h3 class="sent-title" id="inbox-title">From the firm</h3>
        <p class="muted" id="inbox-empty">Nothing from the firm yet. Answer a thread in the mailbox as the solicitor, and the reply arrives here.</p>
        <ol class="sent" id="inbox" aria-labelledby="inbox-title"></ol>
        <h3 class="sent-title">Sent from this phone</h3>
        <p class="muted" id="sent-empty">Nothing sent yet.</p>
        <ol class="sent" id="sent" aria-label="Messages sent from this phone"></ol>
      </div>
    </section>
    <section class="panel connect" aria-labelledby="connect-title">
      <div class="panel-head plain"><h2 id="connect-title">How to connect a real number and mailbox</h2></div>
      <div class="panel-body">
        <p>Set these environment variables and restart wa-bridge; the sandbox switches itself off once they are set. <code>README.md</code> explains each one and the webhook setup in the Meta App Dashboard.</p>
        <dl class="variables">
          ${variables}
        </dl>
      </div>
    </section>
  </div>
  <section class="panel mailbox" aria-labelledby="mailbox-title">
    <div class="panel-head mail-blue">
      <h2 id="mailbox-title">Firm mailbox</h2>
      <span class="panel-sub" id="mail-count"></span>
      <span class="live" id="live" data-state="connecting">Connecting…</span>
    </div>
    <div class="panel-body">
      <p class="hint">Each email as the firm's mail server received it, parsed from the raw MIME, one thread per WhatsApp chat.</p>
      <p class="empty" id="mailbox-empty">No mail yet. Send a message as the client; the bridge's email appears here within a second or two.</p>
      <div id="threads"></div>
    </div>
  </section>
</main>
<div class="visually-hidden" aria-live="polite" id="announcer"></div>
<script>${script}</script>
</body>
</html>
`;
}

const styles = `
:root{--ink:#1f2328;--muted:#5c6670;--line:#d8dde3;--bg:#f3f4f6;--card:#fff;--brand:#0f2a44;--wa:#0b6e5f;--wa-bubble:#dcf5e3;--blue:#0f5fa8;--focus:#1d6fd6;--warn-bg:#fff4d6;--warn:#8a5a00;--danger:#b42318}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.5 "Segoe UI",system-ui,-apple-system,"Helvetica Neue",Arial,sans-serif}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
h2,h3{margin:0;font-weight:600}
code{font:13px/1.4 ui-monospace,"Cascadia Mono",Consolas,monospace}
.top{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:8px 24px;padding:14px 28px;background:var(--brand);color:#fff}
.brand{display:flex;align-items:center;gap:10px}
.product{font-size:20px;font-weight:600;letter-spacing:.2px}
.sandbox-tag{padding:2px 10px;border-radius:999px;background:#f5b800;color:#1f1a00;font-size:12px;font-weight:700;text-transform:uppercase;letter-spacing:.8px}
.top-meta{margin:0;font-size:14px;color:#d6e0ea}
.top-meta strong{color:#fff;font-weight:600}
.banner{margin:18px 28px 0;padding:14px 18px;border:1px solid #f0c24b;border-left:6px solid #d99a00;border-radius:6px;background:var(--warn-bg);color:#4a3500;font-size:15px}
.banner strong{color:var(--warn);letter-spacing:.5px}
.layout{display:grid;grid-template-columns:minmax(300px,400px) minmax(0,1fr);gap:22px;padding:18px 28px 32px;align-items:start}
@media (max-width:900px){.layout{grid-template-columns:1fr}}
.column{display:grid;gap:22px}
.panel{background:var(--card);border:1px solid var(--line);border-radius:8px;overflow:hidden;box-shadow:0 1px 2px rgba(16,24,40,.05)}
.panel-head{display:flex;align-items:center;gap:12px;padding:12px 18px;background:var(--wa);color:#fff}
.panel-head h2{font-size:16px}
.panel-head.plain{background:#fff;color:var(--ink);border-bottom:1px solid var(--line)}
.panel-head.mail-blue{background:var(--blue)}
.panel-sub{font-size:13px;opacity:.85}
.panel-body{padding:16px 18px}
.hint{margin:0 0 12px;color:var(--muted);font-size:13px}
.muted{color:var(--muted);font-size:13px}
.field{display:grid;gap:4px;margin-bottom:12px}
.field .hint{margin:0}
label{font-weight:600;font-size:14px}
input,textarea{width:100%;padding:8px 10px;border:1px solid #b8c0c9;border-radius:6px;font:inherit;color:inherit;background:#fff}
textarea{resize:vertical;min-height:90px}
input[type=file]{padding:6px;border-style:dashed}
[aria-invalid=true]{border-color:var(--danger);background:#fff8f7}
.field-error{color:var(--danger);font-size:13px}
.form-error{margin:4px 0 12px;padding:10px 12px;border:1px solid #f1b5ae;border-left:4px solid var(--danger);border-radius:6px;background:#fff5f4;color:#6b1a12;font-size:14px}
.form-error p{margin:0;font-weight:600}
.form-error ul{margin:6px 0 0;padding-left:18px}
.actions{display:flex;align-items:center;gap:12px}
button{padding:8px 22px;border:0;border-radius:6px;background:var(--wa);color:#fff;font:inherit;font-weight:600;cursor:pointer}
button:hover{background:#095a4e}
button:disabled{opacity:.6;cursor:progress}
.sent-title{margin:18px 0 6px;font-size:14px}
.sent-title+.muted{margin:0}
.sent{list-style:none;margin:0;padding:0;display:grid;gap:8px}
.bubble{justify-self:end;max-width:92%;padding:8px 12px;border-radius:10px 10px 2px 10px;background:var(--wa-bubble);font-size:14px}
.bubble p{margin:0;white-space:pre-wrap;overflow-wrap:anywhere}
.bubble-picture{display:block;max-width:100%;max-height:240px;margin:0 0 6px;border-radius:6px}
.bubble-picture[data-state="loading"]{min-width:120px;min-height:80px;background:rgba(0,0,0,.06)}
.bubble .bubble-meta{margin-top:4px;color:var(--muted);font-size:12px}
.bubble.incoming{justify-self:start;border:1px solid var(--line);border-radius:10px 10px 10px 2px;background:#fff}
.bubble.incoming .bubble-meta{display:flex;align-items:center;gap:6px}
.ticks{display:inline-flex;align-items:center;gap:4px;color:#667781}
.ticks svg{width:18px;height:12px;fill:none;stroke:currentColor;stroke-width:1.8;stroke-linecap:round;stroke-linejoin:round}
.ticks[data-state=read]{color:#0e6f9e;font-weight:600}
.reply{margin:0;padding:12px 14px 14px;border-top:1px solid var(--line);background:#f4f7fb;border-radius:0 0 8px 8px}
.reply .field{margin-bottom:8px}
.reply textarea{min-height:64px}
.reply button{background:var(--blue)}
.reply button:hover{background:#0c4d88}
.variables{margin:0;display:grid;gap:2px}
.variables dt{margin-top:8px}
.variables dd{margin:0;color:var(--muted);font-size:13px}
.connect p{margin:0 0 4px;font-size:14px}
.live{margin-left:auto;padding:2px 10px;border-radius:999px;background:rgba(0,0,0,.25);font-size:12px;font-weight:600}
.live::before{content:"";display:inline-block;width:8px;height:8px;margin-right:6px;border-radius:50%;background:#c2c9d1;vertical-align:1px}
.live[data-state=live]::before{background:#4ade80}
.live[data-state=down]::before{background:#f59e0b}
.empty{margin:24px 0;padding:28px;border:1px dashed var(--line);border-radius:8px;text-align:center;color:var(--muted)}
#threads{display:grid;gap:18px}
.thread{border:1px solid var(--line);border-radius:8px;background:#fafbfc}
.thread-head{padding:12px 16px;border-bottom:1px solid var(--line);background:#eef3f8;border-radius:8px 8px 0 0}
.thread-head h3{font-size:15px;overflow-wrap:anywhere}
.thread-meta{margin:2px 0 0;color:var(--muted);font-size:12px;overflow-wrap:anywhere}
.mails{list-style:none;margin:0;padding:12px;display:grid;gap:12px}
.mail{padding:12px 14px;border:1px solid var(--line);border-left:4px solid var(--blue);border-radius:6px;background:#fff;transition:background-color 1s}
.mail.fresh{background:#eaf4ff}
.mail-head{display:flex;flex-wrap:wrap;justify-content:space-between;gap:4px 16px;font-size:14px}
.from{font-weight:600;overflow-wrap:anywhere}
.date{color:var(--muted);font-size:13px}
.subject{margin:2px 0 6px;font-size:14px;overflow-wrap:anywhere}
.badge{display:inline-block;margin-right:8px;padding:0 8px;border-radius:999px;background:#e3e8ee;color:#33404d;font-size:11px;font-weight:700;text-transform:uppercase;letter-spacing:.5px;vertical-align:1px}
.badge.inbound{background:#dcf5e3;color:#0b5d4f}
.badge.outbound{background:#e2ecfb;color:#0f4f8a}
details{margin:6px 0}
summary{cursor:pointer;color:var(--blue);font-size:13px;font-weight:600}
.headers{margin:8px 0 0;display:grid;gap:2px;font-size:12px}
.header-row{display:grid;grid-template-columns:150px minmax(0,1fr);gap:8px}
.header-row dt{color:var(--muted)}
.header-row dd{margin:0;font-family:ui-monospace,"Cascadia Mono",Consolas,monospace;overflow-wrap:anywhere}
.html-body{display:block;width:100%;margin:8px 0 4px;border:1px solid var(--line);border-radius:4px;background:#fff;resize:vertical}
.text-body{margin:8px 0 4px;padding:10px 12px;border-radius:4px;background:#f6f8fa;white-space:pre-wrap;overflow-wrap:anywhere;font:13px/1.5 ui-monospace,"Cascadia Mono",Consolas,monospace}
.attachments{margin:8px 0 4px;padding:0;list-style:none;display:grid;gap:4px}
.attachment-preview{display:block;max-width:min(100%,280px);max-height:200px;margin:4px 0;border:1px solid var(--line);border-radius:4px}
.attachments a,.bubble-file{padding-left:20px;background:url("data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24' fill='none' stroke='%235c6670' stroke-width='2' stroke-linecap='round' stroke-linejoin='round'%3E%3Cpath d='M21.44 11.05l-9.19 9.19a6 6 0 0 1-8.49-8.49l9.19-9.19a4 4 0 0 1 5.66 5.66l-9.2 9.19a2 2 0 0 1-2.83-2.83l8.49-8.48'/%3E%3C/svg%3E") no-repeat 0 50%/15px 15px}
.mail-foot{margin-top:6px;font-size:13px}
a{color:var(--blue)}
.problem{color:var(--danger)}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
`;
