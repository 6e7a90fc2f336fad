import { Element, Text, type AnyNode, type ParentNode } from 'domhandler';
import { parseDocument } from 'htmlparser2';
import { startsWithForwardMarker } from './markers.js';

/**
 * The HTML half of reply-text stripping: cuts the body at the mail client's quote container, drops
 * the client's signature element, and renders what is left as plain text for text.ts.
 *
 * Two kinds of container, two treatments:
 * - Outlook (desktop, web, new, mobile, Mac) quotes without indenting: the history follows a
 *   header block in a container (`#appendonsend`, `#divRplyFwdMsg`, the Word `border-top` div,
 *   `#OLK_SRC_BODY_SECTION`, …). That container *and everything after it* in document order goes.
 * - Gmail, Apple Mail and Thunderbird quote with `<blockquote>`. Those are rendered with `> `
 *   prefixes, like their plain-text parts, so text.ts tells a top-posted reply (cut at the quote
 *   and its attribution) from an inline one (keep the answers between the quotes) the same way
 *   for both. A blockquote that starts with a forward header is forwarded content, not a quote.
 *
 * Every walk is iterative: deeply nested hostile HTML cannot exhaust the stack.
 */

export interface HtmlReply {
  /** The rendered text, quotes as `> ` lines. */
  text: string;
  /** The HTML carries a mail client's quote or signature markers, so it is worth preferring. */
  hasMarkers: boolean;
}

export interface HtmlOptions {
  /** The message is a forward: keep Outlook's header container and what follows it. */
  forward?: boolean;
  /** Render everything, cutting nothing (no container cut, signature elements kept). */
  renderAll?: boolean;
}

/** Exchange prefixes ids with `x_` each time it re-renders a message, sometimes more than once. */
const outlookContainerId = /^(?:x_)*(?:appendonsend|divRplyFwdMsg|OLK_SRC_BODY_SECTION|mail-editor-reference-message-container)$/u;
const signatureId = /^(?:x_)*(?:Signature|ms-outlook-mobile-signature|ms-outlook-ios-signature|ms-outlook-android-signature)$/iu;
const signatureClass = /(?:^|\s)(?:gmail_signature|gmail_signature_prefix|moz-signature)(?:\s|$)/u;
const quoteClass = /(?:^|\s)(?:gmail_quote|gmail_quote_container|gmail_attr|moz-cite-prefix|yahoo_quoted|OutlookMessageHeader)(?:\s|$)/u;

/** Parses, cuts and renders an HTML body; see the file comment. */
export function htmlToReplyText(html: string, options: HtmlOptions = {}): HtmlReply {
  const document = parseDocument(html.slice(0, nestingLimitIndex(html)), { decodeEntities: true });
  let hasMarkers = false;
  let cut: Element | undefined;
  const signatures: Element[] = []; // left out of the text, like the quote
  for (const element of elementsInOrder(document)) {
    const id = element.attribs.id ?? '';
    const className = element.attribs.class ?? '';
    if (signatureId.test(id) || signatureClass.test(className)) {
      signatures.push(element);
      hasMarkers = true;
    } else if (quoteClass.test(className) || (element.name === 'blockquote' && element.attribs.type === 'cite')) {
      hasMarkers = true;
    }
    if (cut === undefined && isOutlookContainer(element, id)) {
      hasMarkers = true;
      if (!options.forward) cut = element;
    }
  }
  if (options.renderAll) return { text: renderText(document, new Set()), hasMarkers };
  if (cut !== undefined) cutFrom(cut);
  return { text: renderText(document, new Set(signatures)), hasMarkers };
}

/**
 * Elements nested deeper than this are not parsed: htmlparser2's open-element stack costs O(depth)
 * per tag, so hostile nesting would take minutes. Real replies stay far below it, and the person's
 * text comes first, so only the (deep) end of the quoted history is lost.
 */
export const MAX_HTML_DEPTH = 500;
const voidElements = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr']);
// Closed implicitly by the next sibling, so they never pile up on the parser's stack.
const impliedEnd = new Set(['p', 'li', 'dt', 'dd', 'td', 'th', 'tr', 'option', 'optgroup', 'thead', 'tbody', 'tfoot', 'rt', 'rp']);

/** Where the element depth first exceeds MAX_HTML_DEPTH (the length if never); one linear pass. */
export function nestingLimitIndex(html: string): number {
  let depth = 0;
  let at = html.indexOf('<');
  while (at >= 0) {
    const end = html.indexOf('>', at + 1);
    if (end < 0) break;
    const closing = html[at + 1] === '/';
    const name = /^[a-z][a-z0-9:-]*/iu.exec(html.slice(at + (closing ? 2 : 1), Math.min(end, at + 40)))?.[0]?.toLowerCase();
    if (name !== undefined && !voidElements.has(name) && !impliedEnd.has(name) && html[end - 1] !== '/') {
      depth = closing ? Math.max(0, depth - 1) : depth + 1;
      if (depth > MAX_HTML_DEPTH) return at;
    }
    at = html.indexOf('<', end + 1);
  }
  return html.length;
}

function isOutlookContainer(element: Element, id: string): boolean {
  if (outlookContainerId.test(id) || /(?:^|\s)(?:OutlookMessageHeader|yahoo_quoted)(?:\s|$)/u.test(element.attribs.class ?? '')) return true;
  if (element.name !== 'div') return false;
  // Word's separator: "border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0in 0in 0in"
  // (#B5C4DF in Outlook 2007/2010, cm units outside the US, spacing varies).
  const style = (element.attribs.style ?? '').toLowerCase().replace(/\s+/gu, '');
  return /border-top:solid#(?:e1e1e1|b5c4df)/u.test(style) || (style.includes('border:none') && style.includes('border-top:solid') && style.includes('padding:3.0pt0'));
}

/** Elements in document order, without recursion. */
function* elementsInOrder(root: ParentNode): Generator<Element> {
  const stack: AnyNode[] = [...root.children].reverse();
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (!(node instanceof Element)) continue;
    yield node;
    for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]!);
  }
}

/** Removes `node` and everything after it in document order. */
function cutFrom(node: AnyNode): void {
  let current: AnyNode = node;
  let removeSelf = true;
  while (current.parent) {
    const parent: ParentNode = current.parent;
    const index = parent.children.indexOf(current);
    if (index >= 0) parent.children = parent.children.slice(0, removeSelf ? index : index + 1);
    removeSelf = false;
    current = parent;
  }
}

const blockElements = new Set([
  'address', 'article', 'aside', 'blockquote', 'caption', 'center', 'dd', 'details', 'dialog', 'div', 'dl', 'dt',
  'fieldset', 'figcaption', 'figure', 'footer', 'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'li',
  'main', 'nav', 'ol', 'p', 'pre', 'section', 'summary', 'table', 'tbody', 'tfoot', 'thead', 'tr', 'ul',
]);
const skippedElements = new Set(['head', 'style', 'script', 'title', 'template', 'noscript', 'xml', 'meta', 'link', 'object', 'svg', 'math', 'iframe', 'img']);
// Beyond this the exact depth of a quote no longer matters, only that it is one.
const MAX_QUOTE_DEPTH = 8;

interface Line {
  depth: number;
  text: string;
}

/** Accumulates rendered lines; `>` depth is taken from the first text written on a line. */
class TextBuilder {
  readonly lines: Line[] = [];
  private current: Line = { depth: 0, text: '' };
  private pendingBlank = false;
  private hasContent = false;
  depth = 0;
  private readonly links: string[] = [];
  private readonly listCounters = new Map<Element, number>();

  write(raw: string): void {
    const text = this.current.text === '' ? raw.replace(/^[ \t\n\r\f]+/u, '') : raw;
    if (text === '') return;
    if (this.pendingBlank && this.hasContent) this.lines.push({ depth: this.depth, text: '' });
    this.pendingBlank = false;
    this.hasContent = true;
    if (this.current.text === '') this.current.depth = this.depth;
    this.current.text += this.current.text.endsWith(' ') && text.startsWith(' ') ? text.slice(1) : text;
    for (let i = 0; i < this.links.length; i++) if (this.links[i]!.length < 2000) this.links[i] += text;
  }

  /** Ends the current line if it has text. */
  breakLine(): void {
    if (this.current.text !== '') this.lines.push(this.current);
    this.current = { depth: this.depth, text: '' };
  }

  /** `<br>`: ends the line, even an empty one. */
  lineBreak(): void {
    if (this.current.text === '') this.current.depth = this.depth;
    this.lines.push(this.current);
    this.current = { depth: this.depth, text: '' };
    this.pendingBlank = false;
  }

  /** A paragraph edge: one blank line before the next text. */
  paragraph(): void {
    this.breakLine();
    this.pendingBlank = true;
  }

  openLink(): void {
    this.links.push('');
  }

  closeLink(): string {
    return this.links.pop() ?? '';
  }

  /** "- " in a bulleted list, "3. " for the third item of a numbered one. */
  listMarker(item: Element): string {
    const list = item.parent;
    if (!(list instanceof Element) || list.name !== 'ol') return '- ';
    const n = (this.listCounters.get(list) ?? 0) + 1;
    this.listCounters.set(list, n);
    return `${n}. `;
  }

  finish(): string {
    this.breakLine();
    return this.lines
      .map((l) => {
        const text = l.text.replace(/[\u00a0\u202f]/gu, ' ').replace(/\s+$/u, '');
        return l.depth > 0 ? `${'>'.repeat(Math.min(l.depth, MAX_QUOTE_DEPTH))} ${text}`.trimEnd() : text;
      })
      .join('\n');
  }
}

type Step = { node: AnyNode; exit: false } | { node: Element; exit: true; quote: boolean; paragraph: boolean };

/** Renders the document as text, leaving out `skipped`: blocks on their own lines, blockquotes as `> ` lines. */
function renderText(document: ParentNode, skipped: ReadonlySet<Element>): string {
  const out = new TextBuilder();
  const stack: Step[] = [...document.children].reverse().map((node) => ({ node, exit: false as const }));
  while (stack.length > 0) {
    const step = stack.pop()!;
    if (step.exit) {
      leave(out, step.node, step.quote, step.paragraph);
      continue;
    }
    const node = step.node;
    if (node instanceof Text) {
      out.write(node.data.replace(/[ \t\n\r\f]+/gu, ' '));
      continue;
    }
    if (!(node instanceof Element) || skippedElements.has(node.name) || skipped.has(node)) continue;
    if (node.name === 'pre') {
      out.breakLine();
      for (const line of textOf(node, 200_000, 100_000).split('\n')) {
        out.write(line.replace(/^[ \t]+/u, (s) => s.replace(/ /gu, '\u00a0')));
        out.lineBreak();
      }
      continue;
    }
    const quote = node.name === 'blockquote' && isQuoteBlock(node);
    const paragraph = node.name === 'p' && !isLineParagraph(node);
    enter(out, node, quote, paragraph);
    stack.push({ node, exit: true, quote, paragraph });
    for (let i = node.children.length - 1; i >= 0; i--) stack.push({ node: node.children[i]!, exit: false });
  }
  return out.finish();
}

/**
 * A blockquote that quotes an earlier message. Gmail's indent button also makes blockquotes, with
 * no border; one that starts with a forward header holds forwarded content.
 */
function isQuoteBlock(element: Element): boolean {
  const style = (element.attribs.style ?? '').toLowerCase().replace(/\s+/gu, '');
  if (element.attribs.type !== 'cite' && /(?:^|;)border:none/u.test(style)) return false;
  return !startsWithForwardMarker(textOf(element, 300, 200).trim());
}

/**
 * Outlook's Word HTML writes every line as `<p class=MsoNormal>` with no margin; other `<p>`s are
 * real paragraphs with a blank line between them.
 */
function isLineParagraph(element: Element): boolean {
  if (/(?:^|\s)Mso/u.test(element.attribs.class ?? '')) return true;
  const style = (element.attribs.style ?? '').toLowerCase().replace(/\s+/gu, '');
  return /(?:^|;)margin:0(?:px|cm|in|pt)?(?:;|$)/u.test(style) || (style.includes('margin-top:0') && style.includes('margin-bottom:0'));
}

function enter(out: TextBuilder, node: Element, quote: boolean, paragraph: boolean): void {
  if (node.name === 'br') {
    out.lineBreak();
    return;
  }
  if (paragraph) out.paragraph();
  else if (blockElements.has(node.name)) out.breakLine();
  if (quote) out.depth++;
  if (node.name === 'li') out.write(out.listMarker(node));
  if ((node.name === 'td' || node.name === 'th') && node.prev !== null) out.write(' ');
  if (node.name === 'a') out.openLink();
}

function leave(out: TextBuilder, node: Element, quote: boolean, paragraph: boolean): void {
  if (node.name === 'a') {
    const text = out.closeLink().trim();
    const href = (node.attribs.href ?? '').trim();
    // WhatsApp shows no link targets, so a link whose text is not its address carries it along.
    if (/^https?:\/\//iu.test(href) && href.length <= 2000 && text.replace(/\/$/u, '') !== href.replace(/\/$/u, '')) {
      out.write(text === '' ? href : ` (${href})`);
    }
  }
  if (paragraph) out.paragraph();
  else if (blockElements.has(node.name)) out.breakLine();
  if (quote) out.depth--;
}

/** The text under `root`, up to `limit` characters or `maxVisits` nodes, without recursion. */
function textOf(root: Element, limit: number, maxVisits: number): string {
  let text = '';
  let visits = 0;
  const stack: AnyNode[] = [...root.children].reverse();
  while (stack.length > 0 && text.length < limit && visits++ < maxVisits) {
    const node = stack.pop()!;
    if (node instanceof Text) text += node.data;
    else if (node instanceof Element && !skippedElements.has(node.name)) {
      if (node.name === 'br') text += '\n';
      for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]!);
    }
  }
  return text.slice(0, limit);
}
