import { describe, expect, it } from 'vitest';
import type { Role } from '@wa-bridge/shared/roles';
import { canActOnConversation, canCreateMatter, canLinkToMatter, canSeeConversation, canSeeMatter, conversationScope, type Principal } from './access.js';

const user = (upn: string, ...roles: Role[]): Principal => ({ id: upn, upn, name: null, roles, sandbox: false });
const sol = user('sol@firm.test', 'Solicitor');
const handler = user('ch@firm.test', 'CaseHandler');
const compliance = user('co@firm.test', 'ComplianceOfficer');
const admin = user('ad@firm.test', 'Admin');
const nobody = user('x@firm.test');

const linkedTo7 = { matterIds: [7], assignee: null };
const unlinkedForSol = { matterIds: [], assignee: 'sol@firm.test' };
const linkedButAssigned = { matterIds: [8], assignee: 'sol@firm.test' };

describe('conversation access', () => {
  it('lets a solicitor see conversations of their matters and unlinked ones assigned to them', () => {
    expect(canSeeConversation(sol, linkedTo7, new Set([7]))).toBe(true);
    expect(canSeeConversation(sol, linkedTo7, new Set([3]))).toBe(false);
    expect(canSeeConversation(sol, unlinkedForSol, new Set())).toBe(true);
    // Once linked, the matter decides, not the assignment.
    expect(canSeeConversation(sol, linkedButAssigned, new Set())).toBe(false);
  });

  it('gives case handlers their matters only, never an assignment', () => {
    expect(canSeeConversation(handler, linkedTo7, new Set([7]))).toBe(true);
    expect(canSeeConversation(handler, { matterIds: [], assignee: 'ch@firm.test' }, new Set())).toBe(false);
  });

  it('lets compliance officers see everything but act on nothing', () => {
    expect(canSeeConversation(compliance, linkedTo7, new Set())).toBe(true);
    expect(canActOnConversation(compliance, linkedTo7, new Set([7]))).toBe(false);
    expect(canLinkToMatter(compliance, 7, new Set([7]))).toBe(false);
    expect(canCreateMatter(compliance)).toBe(false);
  });

  it('adds roles up: compliance plus solicitor reads all and acts on own matters', () => {
    const both = user('both@firm.test', 'ComplianceOfficer', 'Solicitor');
    expect(canSeeConversation(both, linkedTo7, new Set())).toBe(true);
    expect(canActOnConversation(both, linkedTo7, new Set())).toBe(false);
    expect(canActOnConversation(both, linkedTo7, new Set([7]))).toBe(true);
  });

  it('lets admins do everything and users without a role nothing', () => {
    expect(canActOnConversation(admin, linkedTo7, new Set())).toBe(true);
    expect(canLinkToMatter(admin, 99, new Set())).toBe(true);
    expect(canSeeConversation(nobody, unlinkedForSol, new Set())).toBe(false);
    expect(conversationScope(nobody)).toEqual({ kind: 'none' });
  });

  it('narrows list queries the same way', () => {
    expect(conversationScope(sol)).toEqual({ kind: 'member', upn: 'sol@firm.test', assigned: true });
    expect(conversationScope(handler)).toEqual({ kind: 'member', upn: 'ch@firm.test', assigned: false });
    expect(conversationScope(compliance)).toEqual({ kind: 'all' });
  });

  it('shows a matter to its members and to the see-all roles', () => {
    expect(canSeeMatter(sol, false)).toBe(false);
    expect(canSeeMatter(sol, true)).toBe(true);
    expect(canSeeMatter(compliance, false)).toBe(true);
  });
});
