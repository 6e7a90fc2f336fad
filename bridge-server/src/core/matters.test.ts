import { describe, expect, it } from 'vitest';
import { ConflictError } from './errors.js';
import { assertCanClose, assertCanLink, assertCanUnlink, normalizeUpn } from './matters.js';

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
