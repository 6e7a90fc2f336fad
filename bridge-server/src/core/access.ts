import type { Role } from '@wa-bridge/shared/roles';

/**
 * Who may see and do what. Pure: callers load the facts (links in force, assignee, the user's
 * matters) and ask here, so the same rules answer the API, the stream and the search.
 *
 * - Solicitor: conversations linked (now) to a matter they are on, plus unlinked conversations
 *   assigned to them.
 * - CaseHandler: conversations linked (now) to a matter they are on.
 * - ComplianceOfficer: every conversation and matter, read-only; places and releases legal holds.
 * - Admin: everything, including replies, links and the admin view.
 * Roles add up: a compliance officer who is also a solicitor reads everything and replies where
 * the solicitor role allows.
 */
export interface Principal {
  /** Entra ID object id (oid), or the sandbox's demo id. */
  id: string;
  /** Sign-in name, lower-case: what matter membership and assignment are keyed by. */
  upn: string;
  name: string | null;
  roles: Role[];
  /** The sandbox's demo identity, not a person of the firm. */
  sandbox: boolean;
  /** When the token that named this user expires, ms (long-lived streams end then). */
  expiresAt?: number;
}

/** What decides access to one conversation. */
export interface ConversationFacts {
  /** Matters the conversation is linked to now (ended links do not count). */
  matterIds: readonly number[];
  /** Lower-case UPN of the assignee, or null. */
  assignee: string | null;
}

/** How a list of conversations is narrowed for a user; the store turns it into a query. */
export type ConversationScope = { kind: 'all' } | { kind: 'member'; upn: string; assigned: boolean } | { kind: 'none' };

const has = (p: Principal, role: Role) => p.roles.includes(role);
const worksMatters = (p: Principal) => has(p, 'Solicitor') || has(p, 'CaseHandler');

export const isAdmin = (p: Principal): boolean => has(p, 'Admin');
/** Admins and compliance officers see every conversation and matter. */
export const seesAll = (p: Principal): boolean => has(p, 'Admin') || has(p, 'ComplianceOfficer');
/** Only compliance officers read the audit trail: it shows what everyone, admins included, looked at. */
export const readsAuditTrail = (p: Principal): boolean => has(p, 'ComplianceOfficer');

/**
 * Only compliance officers place, release and list legal holds: a hold suspends deletion for
 * proceedings the compliance function answers for, and whoever runs the system (an admin) should
 * not be the one who lifts it.
 */
export const managesHolds = (p: Principal): boolean => has(p, 'ComplianceOfficer');

export function conversationScope(p: Principal): ConversationScope {
  if (seesAll(p)) return { kind: 'all' };
  if (worksMatters(p)) return { kind: 'member', upn: p.upn, assigned: has(p, 'Solicitor') };
  return { kind: 'none' };
}

/** Access that comes from being on the conversation's matter (or, for a solicitor, its assignee). */
function hasWorkingAccess(p: Principal, facts: ConversationFacts, memberOf: ReadonlySet<number>): boolean {
  if (!worksMatters(p)) return false;
  if (facts.matterIds.some((id) => memberOf.has(id))) return true;
  return has(p, 'Solicitor') && facts.matterIds.length === 0 && facts.assignee !== null && facts.assignee === p.upn;
}

export function canSeeConversation(p: Principal, facts: ConversationFacts, memberOf: ReadonlySet<number>): boolean {
  return seesAll(p) || hasWorkingAccess(p, facts, memberOf);
}

/** Replying, linking, unlinking and assigning: never from the compliance role alone. */
export function canActOnConversation(p: Principal, facts: ConversationFacts, memberOf: ReadonlySet<number>): boolean {
  return isAdmin(p) || hasWorkingAccess(p, facts, memberOf);
}

/** Linking to a matter also needs a place on that matter (admins excepted). */
export function canLinkToMatter(p: Principal, matterId: number, memberOf: ReadonlySet<number>): boolean {
  return isAdmin(p) || (worksMatters(p) && memberOf.has(matterId));
}

export function canSeeMatter(p: Principal, isMember: boolean): boolean {
  return seesAll(p) || (worksMatters(p) && isMember);
}

/** Closing a matter and adding members. */
export function canManageMatter(p: Principal, isMember: boolean): boolean {
  return isAdmin(p) || (worksMatters(p) && isMember);
}

export function canCreateMatter(p: Principal): boolean {
  return isAdmin(p) || worksMatters(p);
}

/** The flags the front ends use to show or hide controls (the API checks again on every call). */
export function capabilities(p: Principal) {
  return { reply: isAdmin(p) || worksMatters(p), link: isAdmin(p) || worksMatters(p), manageMatters: canCreateMatter(p), admin: isAdmin(p), seeAll: seesAll(p), holds: managesHolds(p) };
}
