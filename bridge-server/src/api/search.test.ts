import { describe, expect, it } from 'vitest';
import { matchEnd, matchStart } from '../store/search.js';
import { toSnippetParts } from './search.js';

describe('search snippets', () => {
  it('splits the marked snippet into plain and matched parts', () => {
    expect(toSnippetParts(`the ${matchStart}lease${matchEnd} is ${matchStart}signed${matchEnd}`)).toEqual([
      { text: 'the ', match: false },
      { text: 'lease', match: true },
      { text: ' is ', match: false },
      { text: 'signed', match: true },
    ]);
  });

  it('keeps markup in message text as text', () => {
    expect(toSnippetParts(`<b>${matchStart}x${matchEnd}</b>`)).toEqual([
      { text: '<b>', match: false },
      { text: 'x', match: true },
      { text: '</b>', match: false },
    ]);
  });
});
