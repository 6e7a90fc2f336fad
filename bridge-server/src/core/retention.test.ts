import { describe, expect, it } from 'vitest';
import { addYears, decideErasure, decideRetention, parseRetentionPolicy, type RetentionFacts } from './retention.js';

const policy = { defaultYears: 6, byMatterType: { conveyancing: 15, litigation: 2 } };
const day = 24 * 3_600_000;
const now = Date.parse('2030-06-01T00:00:00Z');
const facts = (overrides: Partial<RetentionFacts>): RetentionFacts => ({ conversationId: 1, chatId: 'c', clientName: null, clientWaId: null, openedAt: 0, lastActivityAt: 0, matters: [], holds: [], ...overrides });

describe('decideRetention', () => {
  it('keeps a conversation while any of its matters is open', () => {
    const decision = decideRetention(facts({ matters: [{ reference: 'A', matterType: 'litigation', closedAt: 0 }, { reference: 'B', matterType: null, closedAt: null }] }), policy, now);
    expect(decision).toEqual({ expired: false, reason: 'matter B is open', retainUntil: null, basis: { kind: 'matter_open', matter: 'B' } });
  });

  it('runs the longest period of all its matters, each from its own closure', () => {
    const closed = Date.parse('2020-01-01T00:00:00Z');
    const input = facts({ matters: [{ reference: 'LIT', matterType: 'litigation', closedAt: closed }, { reference: 'CONV', matterType: 'Conveyancing', closedAt: closed }] });
    const basis = { kind: 'matter_closed', matter: 'CONV', matterType: 'Conveyancing', years: 15 };
    expect(decideRetention(input, policy, now)).toMatchObject({ expired: false, retainUntil: Date.parse('2035-01-01T00:00:00Z'), basis });
    expect(decideRetention(input, policy, Date.parse('2035-01-01T00:00:00Z'))).toMatchObject({ expired: true, rule: 'Conveyancing: 15 years after matter CONV closed', basis });
    // A type the policy does not name runs the default, and says so by naming no type.
    const untyped = facts({ matters: [{ reference: 'MISC', matterType: 'Probate', closedAt: closed }] });
    expect(decideRetention(untyped, policy, now)).toMatchObject({ retainUntil: Date.parse('2026-01-01T00:00:00Z'), basis: { kind: 'matter_closed', matter: 'MISC', matterType: null, years: 6 } });
  });

  it('keeps anything under a legal hold, however old', () => {
    const decision = decideRetention(facts({ holds: [{ id: 4, on: 'matter A', reason: 'claim' }] }), policy, now);
    expect(decision).toEqual({ expired: false, reason: 'legal hold 4 on matter A: claim', retainUntil: null, basis: { kind: 'hold' } });
  });

  it('applies the default from the last activity to a conversation never linked', () => {
    const last = now - 6 * 365 * day;
    expect(decideRetention(facts({ lastActivityAt: last }), policy, now)).toMatchObject({ expired: false, basis: { kind: 'last_activity', years: 6 } });
    expect(decideRetention(facts({ lastActivityAt: last - 3 * day }), policy, now)).toMatchObject({ expired: true, rule: 'default: 6 years after the last activity (never linked to a matter)', basis: { kind: 'last_activity', years: 6 } });
  });
});

describe('decideErasure', () => {
  it('erases what no matter needs, refuses what one does or a hold covers', () => {
    expect(decideErasure(facts({ lastActivityAt: now }), policy, now)).toEqual({ allowed: true });
    expect(decideErasure(facts({ matters: [{ reference: 'A', matterType: null, closedAt: now - day }] }), policy, now)).toMatchObject({ allowed: false, reason: expect.stringContaining('the firm must keep it') });
    expect(decideErasure(facts({ holds: [{ id: 1, on: 'conversation c', reason: 'regulator' }] }), policy, now)).toEqual({ allowed: false, reason: 'legal hold 1 on conversation c (regulator)' });
  });
});

describe('parseRetentionPolicy and addYears', () => {
  it('reads type:years pairs within 2 to 21 years, with a default', () => {
    expect(parseRetentionPolicy('default:7, Wills:21')).toEqual({ policy: { defaultYears: 7, byMatterType: { wills: 21 } } });
    expect(parseRetentionPolicy('wills:30')).toEqual({ error: 'wills: 30 years is outside 2 to 21' });
    expect(parseRetentionPolicy('forever')).toMatchObject({ error: expect.stringContaining('type:years') });
  });

  it('adds calendar years', () => {
    expect(new Date(addYears(Date.parse('2024-02-29T12:00:00Z'), 1)).toISOString()).toBe('2025-03-01T12:00:00.000Z');
  });
});
