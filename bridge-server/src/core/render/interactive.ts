import type { ContentOf, RenderedContent } from './content.js';
import { escapeHtml, labelled, oneLine, paragraph, preformatted } from './html.js';

type InteractiveContent = ContentOf<'interactive'>;

// Cloud API reply types (webhook "interactive" object); anything newer keeps its raw name.
const kinds = new Map([
  ['button_reply', 'Button reply'],
  ['list_reply', 'List reply'],
  ['nfm_reply', 'Flow reply'],
]);

/** Flow answers arrive as JSON text; indent it when it parses, show it as sent when it does not. */
function prettyJson(json: string): string {
  try {
    return JSON.stringify(JSON.parse(json), null, 2);
  } catch {
    return json;
  }
}

function fields(content: InteractiveContent): Array<[string, string]> {
  const all: Array<[string, string | undefined]> = [
    ['Choice:', content.title],
    ['Description:', content.description],
    ['Id:', content.replyId],
  ];
  return all.filter((f): f is [string, string] => f[1] !== undefined && f[1] !== '');
}

/** The client's answer to an interactive message: button or list choice (title and id), or a flow's JSON. */
export function renderInteractive(content: InteractiveContent): RenderedContent {
  const kind = kinds.get(content.replyType) ?? `Interactive reply (${oneLine(content.replyType, 64)})`;
  const shown = fields(content);
  const json = content.responseJson === undefined || content.responseJson === '' ? null : prettyJson(content.responseJson);
  const text = [`[${kind}]`, ...shown.map(([label, value]) => `${label} ${oneLine(value, 4096)}`), ...(json === null ? [] : ['Answers:', json])];
  const html = [
    paragraph(`<strong>${escapeHtml(kind)}</strong>`),
    ...shown.map(([label, value]) => labelled(label, value)),
    ...(json === null ? [] : [paragraph('<strong>Answers:</strong>'), preformatted(json)]),
  ];
  return { summary: oneLine(`[${kind}] ${content.title ?? ''}`), text: text.join('\n'), html: html.join('\n'), attachments: [] };
}
