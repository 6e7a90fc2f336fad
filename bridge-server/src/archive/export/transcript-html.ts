import { escapeHtml } from '../../core/render/html.js';
import type { TranscriptEntry } from '../../core/transcript.js';
import { formatZonedTime } from '../../core/zoned-time.js';

export interface TranscriptSection {
  title: string;
  client: string;
  chatId: string;
  entries: TranscriptEntry[];
  /** A matter's bundle: which stretches of the conversation belong to the matter. */
  linked?: string;
  /** One line per chat-export file imported into the conversation. */
  imports: string[];
}

export interface TranscriptMeta {
  exportedAt: number;
  exportedBy: string;
  timeZone: string;
  selection: string;
}

const style = `
body{font:14px/1.45 "DejaVu Sans",Arial,sans-serif;color:#1b1b1b;margin:24px auto;max-width:820px;padding:0 16px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 4px;border-bottom:2px solid #0b5f4b;padding-bottom:4px}
.meta{color:#555;font-size:12px;margin:0 0 12px}.meta dt{float:left;clear:left;width:150px;font-weight:bold}.meta dd{margin:0 0 2px 160px}
ol{list-style:none;padding:0;margin:0}
li{margin:10px 0;max-width:78%;padding:8px 12px;border-radius:8px;border:1px solid #d6d6d6;background:#fff;page-break-inside:avoid}
li.inbound{margin-right:auto;background:#ffffff}li.outbound{margin-left:auto;background:#e3f4ec;border-color:#b7dcc9}
li.edit,li.deletion,li.reaction{background:#fff8e1;border-color:#e8d48b}
.head{font-size:12px;color:#444;margin-bottom:4px}.head b{color:#1b1b1b}.kind{display:inline-block;font-size:11px;font-weight:bold;text-transform:uppercase;color:#7a5d00;margin-left:6px}
.text{white-space:pre-wrap;word-wrap:break-word}.marks{font-size:12px;color:#8a1c1c;font-style:italic;margin-top:4px}
.files{font-size:12px;margin-top:6px}.files img{display:block;max-width:260px;max-height:260px;margin:4px 0;border:1px solid #ccc}
.link{font:10px monospace;color:#777;margin-top:4px;word-break:break-all}
@media print{body{margin:0;max-width:none}li{max-width:85%}}
`;

/** A self-contained, printable page: every event of every conversation, in order, nothing hidden. */
export function transcriptHtml(meta: TranscriptMeta, sections: readonly TranscriptSection[]): string {
  return [...transcriptHtmlParts(meta, sections)].join('');
}

/** The page of `transcriptHtml` in parts (one per event), for writing it out as it is made. */
export function* transcriptHtmlParts(meta: TranscriptMeta, sections: readonly TranscriptSection[]): Generator<string> {
  yield `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>WhatsApp transcript</title><style>${style}</style></head>
<body>
<h1>WhatsApp transcript</h1>
<dl class="meta">
<dt>Exported</dt><dd>${escapeHtml(formatZonedTime(meta.exportedAt, meta.timeZone))} by ${escapeHtml(meta.exportedBy)}</dd>
<dt>Selection</dt><dd>${escapeHtml(meta.selection)}</dd>
<dt>Times shown in</dt><dd>${escapeHtml(meta.timeZone)} (offset given on every time)</dd>
<dt>Integrity</dt><dd>Every file of this bundle is listed with its SHA-256 in manifest.json, which is signed (manifest.sig); each event below shows its hash-chain link.</dd>
</dl>
`;
  for (const [index, section] of sections.entries()) {
    if (index > 0) yield '\n';
    yield `<h2>${escapeHtml(section.title)}</h2>
<p class="meta">Client ${escapeHtml(section.client)} · chat id ${escapeHtml(section.chatId)} · ${section.entries.length} event(s)</p>
${section.linked === undefined ? '' : `<p class="meta">${escapeHtml(section.linked)}</p>\n`}${section.imports.map((line) => `<p class="meta">${escapeHtml(line)}</p>\n`).join('')}<ol>
`;
    for (const [n, entry] of section.entries.entries()) yield `${n > 0 ? '\n' : ''}${entryHtml(entry, meta.timeZone)}`;
    yield '\n</ol>';
  }
  yield `
</body></html>
`;
}

function entryHtml(entry: TranscriptEntry, timeZone: string): string {
  const kindClass = entry.kind === 'message' ? '' : ` ${entry.kind}`;
  const label = entry.kind === 'message' ? '' : `<span class="kind">${escapeHtml(entry.label)}</span>`;
  const files = entry.files.length === 0 ? '' : `<div class="files">${entry.files.map((file) => fileHtml(file)).join('')}</div>`;
  const marks = entry.marks.length === 0 ? '' : `<div class="marks">${entry.marks.map(escapeHtml).join(' · ')}</div>`;
  return `<li class="${entry.direction}${kindClass}" id="event-${entry.seq}">
<div class="head"><b>${escapeHtml(entry.sender)}</b> · ${escapeHtml(formatZonedTime(entry.timestamp, timeZone))}${label}</div>
<div class="text">${escapeHtml(entry.text)}</div>${files}${marks}
<div class="link">#${entry.seq} · ${escapeHtml(entry.waMessageId)} · link ${entry.chainHash}</div>
</li>`;
}

function fileHtml(file: TranscriptEntry['files'][number]): string {
  const href = escapeHtml(file.path);
  const preview = /^image\/(png|jpeg|gif|webp)$/.test(file.contentType) ? `<img src="${href}" alt="${escapeHtml(file.fileName)}">` : '';
  return `<div>${preview}<a href="${href}">${escapeHtml(file.fileName)}</a> (${escapeHtml(file.contentType)}, ${file.size} bytes, SHA-256 ${file.sha256})</div>`;
}
