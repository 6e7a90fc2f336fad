import { describe, expect, it } from 'vitest';
import { ConflictError } from './errors.js';
import { assertCanClose, assertCanLink, assertCanUnlink, normalizeUpn, inPeriods, matterPeriods } from './matters.js';

const open = { id: 1, reference: 'SMI-1', state: 'open' as const };
const closed = { ...open, state: 'closed' as const };

describe('matter and link rules', () => {
  it('links an open matter once at a time', () => {
    expect(() => assertCanLink(open, [])).not.toThrow();
    expect(() => assertCanLink(open, [{ id: 9, matterId: 1, unlinkedAt: null }])).toThrow(/already linked/);
    // An ended link is history: the same matter may be linked again.
    expect(() => assertCanLink(open, [{ id: 9, matterId: 1, unlinkedAt: 5 }])).not.toThrow();
  });

  it('refuses new links to a closed matter and closing twice', () => {
    const error = (() => {
      try {
        assertCanLink(closed, []);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).code).toBe('matter_closed');
    expect(() => assertCanClose(closed)).toThrow(/already closed/);
  });

  it('ends a link only once', () => {
    expect(() => assertCanUnlink({ id: 3, matterId: 1, unlinkedAt: null })).not.toThrow();
    expect(() => assertCanUnlink({ id: 3, matterId: 1, unlinkedAt: 10 })).toThrow(/already ended/);
  });

  it('compares sign-in names without case or spaces', () => {
    expect(normalizeUpn('  Alice.Smith@Firm.Example ')).toBe('alice.smith@firm.example');
  });
});

describe('matterPeriods', () => {
  const day = 86_400_000;
  it('gives the first link what came before it, and ends each period when its link ended', () => {
    // Linked to matter 1 on day 10, moved to matter 2 on day 20, back to matter 1 on day 30 (still linked).
    const links = [
      { matterId: 1, linkedAt: 10 * day, unlinkedAt: 20 * day },
      { matterId: 2, linkedAt: 20 * day, unlinkedAt: 30 * day },
      { matterId: 1, linkedAt: 30 * day, unlinkedAt: null },
    ];
    expect(matterPeriods(links, 1)).toEqual([
      { from: null, to: 20 * day },
      { from: 30 * day, to: null },
    ]);
    expect(matterPeriods(links, 2)).toEqual([{ from: 20 * day, to: 30 * day }]);
    expect(matterPeriods(links, 3)).toEqual([]);
    const one = matterPeriods(links, 1);
    expect([5, 19, 20, 29, 30, 400].map((d) => inPeriods(d * day, one))).toEqual([true, true, false, false, true, true]);
  });

  it('merges periods that overlap or touch, and shares the time before the first link between matters linked at once', () => {
    const links = [
      { matterId: 1, linkedAt: 10 * day, unlinkedAt: 15 * day },
      { matterId: 1, linkedAt: 15 * day, unlinkedAt: 18 * day },
      { matterId: 2, linkedAt: 10 * day, unlinkedAt: null },
    ];
    expect(matterPeriods(links, 1)).toEqual([{ from: null, to: 18 * day }]);
    expect(matterPeriods(links, 2)).toEqual([{ from: null, to: null }]);
  });
});
