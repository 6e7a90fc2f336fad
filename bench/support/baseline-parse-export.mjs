// whatsapp-chat-parser 4 as a whole process printing the parse-export NDJSON shape, for the
// parse_export benchmark: `node bench/support/baseline-parse-export.mjs FILE > /dev/null`.
// Its API takes the whole text as one string, so the file is read whole.
import { readFileSync, writeSync } from 'node:fs';
import { parseString } from 'whatsapp-chat-parser';

const pad = (n) => String(n).padStart(2, '0');
const messages = parseString(readFileSync(process.argv[2], 'utf8'), { parseAttachments: true });
let out = '';
for (const m of messages) {
  const d = m.date;
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  out += `${JSON.stringify({ date, author: m.author, message: m.message, ...(m.attachment ? { attachment: m.attachment } : {}) })}\n`;
  if (out.length > 1 << 16) {
    writeSync(1, out);
    out = '';
  }
}
writeSync(1, out);
