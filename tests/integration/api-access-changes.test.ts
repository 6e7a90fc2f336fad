import { describe, expect, it } from 'vitest';
import { useApiWorld, users } from '../support/api-world.js';

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
