import EmailReplyParser from 'email-reply-parser';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { extractReplyText, type ReplyInput } from '../bridge-server/src/mail/inbound/reply-text/extract.js';
import { htmlToReplyText } from '../bridge-server/src/mail/inbound/reply-text/html.js';
import { parseReplySource } from '../bridge-server/src/mail/inbound/reply-text/parse-source.js';

export interface ReplyTextResult {
  /** Corpus cases whose output equals the expected text exactly (after trimming). */
  ours_exact: number;
  baseline_exact: number;
  cases: number;
  /** Mean similarity to the expected text, 1 - normalized Levenshtein distance, 0..1. */
  ours_score: number;
  baseline_score: number;
}

export interface ReplyTextCase {
  name: string;
  ours_exact: boolean;
  baseline_exact: boolean;
  ours_similarity: number;
  baseline_similarity: number;
}

const corpus = fileURLToPath(new URL('../tests/fixtures/replies/', import.meta.url));

/**
 * Every case of tests/fixtures/replies through our extractReplyText and through the
 * `email-reply-parser` npm package (a port of GitHub's email_reply_parser), scored against the
 * case's .expected.txt. The baseline reads plain text only, so it gets the text/plain part, or for
 * an HTML-only message the same HTML-to-text rendering ours uses, with nothing cut from it.
 */
export async function benchReplyText(): Promise<ReplyTextResult> {
  const perCase = await runReplyTextCases();
  const mean = (values: number[]) => Math.round((values.reduce((a, b) => a + b, 0) / Math.max(values.length, 1)) * 10_000) / 10_000;
  return {
    ours_exact: perCase.filter((c) => c.ours_exact).length,
    baseline_exact: perCase.filter((c) => c.baseline_exact).length,
    cases: perCase.length,
    ours_score: mean(perCase.map((c) => c.ours_similarity)),
    baseline_score: mean(perCase.map((c) => c.baseline_similarity)),
  };
}

/** The per-case results behind benchReplyText. */
export async function runReplyTextCases(): Promise<ReplyTextCase[]> {
  const names = (await readdir(corpus)).filter((n) => /\.(?:eml|txt)$/u.test(n) && !n.endsWith('.expected.txt')).sort();
  const baseline = new EmailReplyParser();
  const results: ReplyTextCase[] = [];
  for (const name of names) {
    const input = await parseReplySource(await readFile(corpus + name), name);
    const expected = (await readFile(corpus + name.replace(/\.(?:eml|txt)$/u, '.expected.txt'), 'utf8')).trim();
    const ours = extractReplyText(input).trim();
    const theirs = baseline.parseReply(baselineText(input)).replace(/\r\n?/gu, '\n').trim();
    results.push({
      name,
      ours_exact: ours === expected,
      baseline_exact: theirs === expected,
      ours_similarity: similarity(ours, expected),
      baseline_similarity: similarity(theirs, expected),
    });
  }
  return results;
}

/** What a plain-text parser is given: the text part, else the uncut HTML rendered as text. */
function baselineText(input: ReplyInput): string {
  if (input.text !== undefined && input.text.trim() !== '') return input.text;
  return input.html === undefined ? '' : htmlToReplyText(input.html, { renderAll: true }).text;
}

// Longer texts are compared on their first this-many characters, keeping the distance O(n * m) small.
const MAX_COMPARED = 20_000;

/** 1 - Levenshtein(a, b) / max(|a|, |b|); 1 for two empty strings. */
export function similarity(a: string, b: string): number {
  const x = a.slice(0, MAX_COMPARED);
  const y = b.slice(0, MAX_COMPARED);
  const longest = Math.max(x.length, y.length);
  return longest === 0 ? 1 : 1 - levenshtein(x, y) / longest;
}

/** Edit distance in UTF-16 code units, two rows of the classic table. */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let previous = new Uint32Array(b.length + 1).map((_, j) => j);
  let current = new Uint32Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (ca === b.charCodeAt(j - 1) ? 0 : 1);
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution);
    }
    [previous, current] = [current, previous];
  }
  return previous[b.length]!;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const perCase = await runReplyTextCases();
  const round = (n: number) => Math.round(n * 1000) / 1000;
  console.table(
    perCase.map((c) => ({
      case: c.name,
      ours: c.ours_exact ? 'exact' : round(c.ours_similarity),
      'email-reply-parser': c.baseline_exact ? 'exact' : round(c.baseline_similarity),
    })),
  );
  console.table(await benchReplyText());
}
