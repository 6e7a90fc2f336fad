import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AxeResults, ElementContext, RunOptions } from 'axe-core';
import type { Frame, Locator, Page } from 'playwright-core';

/** A page or a frame: where the checks look. */
export interface Scope {
  locator(selector: string): Locator;
}

/**
 * Visible form controls with no accessible name: no aria-label, no <label>, no aria-labelledby
 * target with text, and no text of their own. Returns the start of each one's HTML.
 */
export async function unnamedControls(scope: Scope): Promise<{ count: number; unnamed: string[] }> {
  const controls = scope.locator('button, input, textarea, select, [role="combobox"]');
  const unnamed = await controls.evaluateAll((elements) =>
    elements
      .filter((element) => !(element as HTMLInputElement).hidden && (element as HTMLElement).offsetParent !== null)
      .filter((element) => {
        const labelledBy = element.getAttribute('aria-labelledby');
        const label = (element as HTMLInputElement).labels?.[0]?.textContent ?? (labelledBy ? document.getElementById(labelledBy.split(' ')[0]!)?.textContent : null);
        return !(element.getAttribute('aria-label') || label || element.textContent?.trim());
      })
      .map((element) => element.outerHTML.slice(0, 120)),
  );
  return { count: await controls.count(), unnamed };
}

export interface ContrastReading {
  /** What was measured, e.g. "timestamp: 10:04". */
  what: string;
  foreground: string;
  background: string;
  ratio: number;
  /** The WCAG 2.2 minimum for it: 4.5 for text, 3 for large text (24 px, or 18.66 px bold) and icons. */
  required: number;
}

/**
 * The WCAG contrast ratio of each element's text colour (of each descendant holding text, where
 * the text sits in children) against what is painted behind it: the
 * background colours of the element and its ancestors composited from the first opaque one (the
 * page's white canvas if none is), and a translucent text colour composited over that.
 * `icon`: the element is a glyph that carries meaning (1.4.11 non-text contrast, 3:1).
 */
export async function contrastOf(locator: Locator, what: string, options: { icon?: boolean } = {}): Promise<ContrastReading[]> {
  return locator.evaluateAll(
    (elements, { what, icon }) => {
      type Rgba = [number, number, number, number];
      const parse = (value: string): Rgba => {
        const match = value.match(/^rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)$/);
        if (!match) throw new Error(`cannot read the colour ${value}`);
        return [Number(match[1]), Number(match[2]), Number(match[3]), match[4] === undefined ? 1 : Number(match[4])];
      };
      const over = (top: Rgba, bottom: Rgba): Rgba => {
        const alpha = top[3];
        return [top[0] * alpha + bottom[0] * (1 - alpha), top[1] * alpha + bottom[1] * (1 - alpha), top[2] * alpha + bottom[2] * (1 - alpha), 1];
      };
      const luminance = ([r, g, b]: Rgba) => {
        const channel = (value: number) => {
          const c = value / 255;
          return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
        };
        return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
      };
      const css = ([r, g, b]: Rgba) => `rgb(${Math.round(r)}, ${Math.round(g)}, ${Math.round(b)})`;
      // The text is painted in the colour of the element whose own text node it is: measure those.
      const ownsText = (element: Element) => [...element.childNodes].some((node) => node.nodeType === Node.TEXT_NODE && node.textContent!.trim() !== '');
      const holders = (element: Element) => [element, ...element.querySelectorAll('*')].filter(ownsText);
      return elements
        .flatMap(holders)
        .filter((element) => ((element as HTMLElement).offsetParent !== null || getComputedStyle(element).position === 'fixed') && getComputedStyle(element).visibility === 'visible')
        .map((element) => {
          const layers: Rgba[] = [];
          for (let node: Element | null = element; node; node = node.parentElement) {
            const layer = parse(getComputedStyle(node).backgroundColor);
            if (layer[3] > 0) layers.push(layer);
            if (layer[3] >= 1) break;
          }
          let background: Rgba = [255, 255, 255, 1];
          for (const layer of layers.reverse()) background = over(layer, background);
          const style = getComputedStyle(element);
          const foreground = over(parse(style.color), background);
          const [light, dark] = [luminance(foreground), luminance(background)].sort((a, b) => b - a) as [number, number];
          const size = parseFloat(style.fontSize);
          const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
          return {
            what: `${what}: ${(element.textContent ?? '').trim().slice(0, 40)}`,
            foreground: css(foreground),
            background: css(background),
            ratio: Math.round(((light + 0.05) / (dark + 0.05)) * 100) / 100,
            required: icon || large ? 3 : 4.5,
          };
        });
    },
    { what, icon: options.icon ?? false },
  );
}

/** The readings of the usual parts of a conversation view (the caller adds others). */
export async function conversationContrast(scope: Scope): Promise<ContrastReading[]> {
  const parts: Array<[string, string, { icon?: boolean }?]> = [
    ['li.bubble.incoming .text', 'client text'],
    ['li.bubble.outgoing .text', 'firm text'],
    ['.client-name', 'heading'],
    ['li.bubble time', 'timestamp'],
    ['.ticks', 'delivery ticks', { icon: true }],
    ['.window-state', 'window note'],
    ['.stream-state', 'live badge'],
    ['.matter-ref', 'matter reference'],
  ];
  const readings: ContrastReading[] = [];
  for (const [selector, what, options] of parts) {
    const found = await contrastOf(scope.locator(selector), what, options);
    if (found.length === 0) throw new Error(`nothing to measure for ${what} (${selector})`);
    readings.push(...found);
  }
  return readings;
}

/** The readings below their minimum, for an expect(...).toEqual([]) that names them. */
export function tooFaint(readings: ContrastReading[]): string[] {
  return readings.filter((reading) => reading.ratio < reading.required).map((reading) => `${reading.what} (${reading.foreground} on ${reading.background}): ${reading.ratio}:1, needs ${reading.required}:1`);
}

/** The frame an <iframe> element shows (the Teams tab inside its host page), for axeViolations. */
export async function frameOf(iframe: Locator): Promise<Frame> {
  const frame = await (await iframe.elementHandle())?.contentFrame();
  if (!frame) throw new Error('the element shows no frame');
  return frame;
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * What axe-core finds against WCAG 2.0 and 2.1, levels A and AA, in a page or frame as it stands:
 * one line per element at fault, with the rule, its impact and how to fix it. Empty when it finds
 * nothing. The engine is put in through the DevTools protocol, past the page's own CSP, which
 * allows no script from elsewhere.
 *
 * Left out of what it checks: the sandboxed frames of mail bodies, which run no script (axe cannot
 * look inside), and Fluent UI's focus sentinels (`data-tabster-dummy`): empty, aria-hidden
 * elements its focus manager moves the focus on from at once, which axe takes for hidden
 * controls.
 */
export async function axeViolations(target: Page | Frame): Promise<string[]> {
  await target.evaluate(axeSource);
  return target.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: ElementContext, options: RunOptions): Promise<AxeResults> } }).axe;
    const results = await axe.run(
      { include: [['body']], exclude: [['[data-tabster-dummy]']] },
      { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, iframes: false, resultTypes: ['violations'] },
    );
    return results.violations.flatMap((rule) =>
      rule.nodes.map((node) => `${rule.id} (${rule.impact ?? 'unrated'}): ${node.target.join(' ')}: ${(node.failureSummary ?? rule.help).replace(/\s+/g, ' ')}`),
    );
  });
}
