/**
 * Retention and legal hold, as rules over plain facts. A conversation is kept while any legal
 * hold covers it (on itself or on a matter it was ever linked to), while any such matter is
 * open, and until the longest retention period of those matters has run from each one's
 * closure; a conversation never linked to a matter is kept for the default period from its last
 * activity. Periods are whole years (SRA practice: 2 to 21), per matter type, with a default.
 */

export interface RetentionPolicy {
  defaultYears: number;
  /** Years by matter type (lower-case). */
  byMatterType: Record<string, number>;
}

export const minRetentionYears = 2;
export const maxRetentionYears = 21;

export interface RetentionFacts {
  conversationId: number;
  chatId: string;
  /** The client as WhatsApp named them, for the people deciding; no rule reads it. */
  clientName: string | null;
  clientWaId: string | null;
  openedAt: number;
  /** The newest event's WhatsApp time, or openedAt when there is none. */
  lastActivityAt: number;
  /** Every matter the conversation was ever linked to. */
  matters: Array<{ reference: string; matterType: string | null; closedAt: number | null }>;
  /** Holds in force on the conversation or on one of its matters. */
  holds: Array<{ id: number; on: string; reason: string }>;
}

/** What keeps a conversation, or ends its retention, in parts a view can word itself. */
export type RetentionBasis =
  | { kind: 'hold' }
  | { kind: 'matter_open'; matter: string }
  | { kind: 'matter_closed'; matter: string; matterType: string | null; years: number }
  | { kind: 'last_activity'; years: number };

export type RetentionDecision =
  | { expired: true; rule: string; retainUntil: number; basis: RetentionBasis; matters: Array<{ reference: string; matterType: string | null; closedAt: number; retainUntil: number }> }
  | { expired: false; reason: string; retainUntil: number | null; basis: RetentionBasis };

export function yearsFor(policy: RetentionPolicy, matterType: string | null): number {
  return periodFor(policy, matterType).years;
}

/** The years for a matter type, and whether the policy names the type (else its default applies). */
export function periodFor(policy: RetentionPolicy, matterType: string | null): { years: number; ownEntry: boolean } {
  const own = matterType === null ? undefined : policy.byMatterType[matterType.toLowerCase()];
  return own === undefined ? { years: policy.defaultYears, ownEntry: false } : { years: own, ownEntry: true };
}

/** `time` plus whole calendar years (29 February lands on 1 March in a common year). */
export function addYears(time: number, years: number): number {
  const date = new Date(time);
  date.setUTCFullYear(date.getUTCFullYear() + years);
  return date.getTime();
}

export function decideRetention(facts: RetentionFacts, policy: RetentionPolicy, now: number): RetentionDecision {
  if (facts.holds.length > 0) {
    const hold = facts.holds[0]!;
    return { expired: false, reason: `legal hold ${hold.id} on ${hold.on}: ${hold.reason}`, retainUntil: null, basis: { kind: 'hold' } };
  }
  const open = facts.matters.find((matter) => matter.closedAt === null);
  if (open) return { expired: false, reason: `matter ${open.reference} is open`, retainUntil: null, basis: { kind: 'matter_open', matter: open.reference } };
  if (facts.matters.length === 0) {
    const years = policy.defaultYears;
    const retainUntil = addYears(facts.lastActivityAt, years);
    const basis = { kind: 'last_activity', years } as const;
    return retainUntil <= now
      ? { expired: true, rule: `default: ${years} years after the last activity (never linked to a matter)`, retainUntil, basis, matters: [] }
      : { expired: false, reason: `default period of ${years} years after the last activity runs to ${new Date(retainUntil).toISOString().slice(0, 10)}`, retainUntil, basis };
  }
  const periods = facts.matters.map((matter) => {
    const years = yearsFor(policy, matter.matterType);
    return { reference: matter.reference, matterType: matter.matterType, closedAt: matter.closedAt!, years, retainUntil: addYears(matter.closedAt!, years) };
  });
  const longest = periods.reduce((a, b) => (b.retainUntil > a.retainUntil ? b : a));
  const rule = `${longest.matterType ?? 'default'}: ${longest.years} years after matter ${longest.reference} closed`;
  const basis = { kind: 'matter_closed', matter: longest.reference, matterType: periodFor(policy, longest.matterType).ownEntry ? longest.matterType : null, years: longest.years } as const;
  if (longest.retainUntil > now) return { expired: false, reason: `${rule}, until ${new Date(longest.retainUntil).toISOString().slice(0, 10)}`, retainUntil: longest.retainUntil, basis };
  return { expired: true, rule, retainUntil: longest.retainUntil, basis, matters: periods.map(({ reference, matterType, closedAt, retainUntil }) => ({ reference, matterType, closedAt, retainUntil })) };
}

/**
 * A data subject's erasure request (UK GDPR art. 17): honoured only where no hold applies and no
 * matter still needs the record (art. 17(3)(b) and (e): legal obligation, legal claims).
 */
export function decideErasure(facts: RetentionFacts, policy: RetentionPolicy, now: number): { allowed: true } | { allowed: false; reason: string } {
  if (facts.holds.length > 0) {
    const hold = facts.holds[0]!;
    return { allowed: false, reason: `legal hold ${hold.id} on ${hold.on} (${hold.reason})` };
  }
  if (facts.matters.length === 0) return { allowed: true };
  const decision = decideRetention(facts, policy, now);
  return decision.expired ? { allowed: true } : { allowed: false, reason: `the firm must keep it: ${decision.reason}` };
}

/** Parses `default:6,conveyancing:15` (years per matter type); every problem in one message. */
export function parseRetentionPolicy(text: string): { policy: RetentionPolicy } | { error: string } {
  const byMatterType: Record<string, number> = {};
  let defaultYears: number | undefined;
  for (const item of text.split(',').map((part) => part.trim()).filter(Boolean)) {
    const match = /^([a-z0-9_-]{1,60}):(\d{1,3})$/i.exec(item);
    if (!match) return { error: `expected type:years pairs such as default:6,conveyancing:15, got ${JSON.stringify(item)}` };
    const years = Number(match[2]);
    if (years < minRetentionYears || years > maxRetentionYears) return { error: `${match[1]}: ${years} years is outside ${minRetentionYears} to ${maxRetentionYears}` };
    if (match[1]!.toLowerCase() === 'default') defaultYears = years;
    else byMatterType[match[1]!.toLowerCase()] = years;
  }
  return { policy: { defaultYears: defaultYears ?? 6, byMatterType } };
}
