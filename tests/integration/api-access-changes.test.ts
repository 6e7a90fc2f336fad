import { describe, expect, it } from 'vitest';
import { useApiWorld, users } from '../support/api-world.js';
import type { TestUser } from '../support/token-issuer.js';

const api = useApiWorld();

/** Changes to who may see a conversation are refused when malformed and recorded when made. */
describe('access changes through the API', () => {
  it('records an assignment and a new matter member in the audit trail, and refuses a bare name', async () => {
    const { conversationId } = await api.clientWrites('447700900801', 'First contact', { name: 'Nina' });
    const admin = api.as(users.admin);
    const bare = await admin('PUT', `/api/conversations/${conversationId}/assignee`, { assignee: 'tom' });
    expect(bare.status).toBe(400);
    expect(bare.body.errors).toEqual([{ path: 'assignee', message: 'expected a sign-in name such as tom@firm.example' }]);

    expect((await admin('PUT', `/api/conversations/${conversationId}/assignee`, { assignee: users.solicitorA.upn })).status).toBe(200);
    const matter = await api.as(users.solicitorA)('POST', '/api/matters', { reference: 'ACC-1', title: 'Nina: lease' });
    expect((await api.as(users.solicitorA)('POST', `/api/matters/${matter.body.id}/members`, { email: users.caseHandler.upn })).status).toBe(200);

    const compliance = api.as(users.compliance);
    const assigned = await compliance('GET', '/api/audit?action=conversation.assign');
    expect(assigned.body.items).toEqual([expect.objectContaining({ actor: users.admin.upn, details: { assignee: users.solicitorA.upn } })]);
    const added = await compliance('GET', '/api/audit?action=matter.member_add');
    expect(added.body.items).toEqual([expect.objectContaining({ actor: users.solicitorA.upn, target: 'matter:ACC-1', details: { member: users.caseHandler.upn } })]);
  });
});

describe('one audit entry per API read', () => {
  it('leaves exactly one entry for each request a reader makes, and none for a refused one', async () => {
    const reader: TestUser = { upn: 'olivia.auditor@firm.test', name: 'Olivia Auditor', roles: ['ComplianceOfficer'] };
    const { conversationId } = await api.clientWrites('447700900802', 'A question about fees', { name: 'Omar' });
    const as = api.as(reader);
    const count = async () => {
      const { queryAudit } = await import('../../bridge-server/src/store/audit.js');
      return (await queryAudit(api.world.bridge.store.db, { actor: reader.upn })).length;
    };
    const reads = ['/api/me', '/api/conversations', `/api/conversations/${conversationId}`, `/api/conversations/${conversationId}/messages`, '/api/search?q=fees', '/api/matters', '/api/audit?action=sign_in'];
    for (const path of reads) {
      const before = await count();
      expect((await as('GET', path)).status, path).toBe(200);
      expect((await count()) - before, path).toBe(1);
    }
    const before = await count();
    expect((await as('POST', `/api/conversations/${conversationId}/replies`, { text: 'no' })).status).toBe(403);
    expect(await count()).toBe(before);
  });
});
