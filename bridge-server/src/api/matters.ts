import express, { type Request, type Router } from 'express';
import { addMemberSchema, createMatterSchema, listMattersQuery } from '@wa-bridge/shared/api/matters';
import { canCreateMatter, canManageMatter, canSeeMatter, seesAll, type Principal } from '../core/access.js';
import { BadInputError, ConflictError, ForbiddenError, NotFoundError } from '../core/errors.js';
import { assertCanClose, normalizeUpn } from '../core/matters.js';
import { principalOf } from '../auth/middleware.js';
import { addYears, periodFor } from '../core/retention.js';
import { addMember, closeMatter, conversationsEverLinked, createMatter, getMatter, listMatters, type MatterRow } from '../store/matters.js';
import { listHolds } from '../store/retention.js';
import { audit, matterTarget } from './audit.js';
import { bearerOf, idOf, parseInput, type ApiDeps } from './context.js';
import { iso, toLegalHold, toMatter } from './views.js';

/** Matters: list, create, read, close, add a member, and how long their records are kept. */
export function mattersRouter(deps: ApiDeps): Router {
  const router = express.Router();

  router.get('/', async (req, res) => {
    const principal = principalOf(res);
    const query = parseInput(listMattersQuery, req.query, 'matter list query');
    const rows = await listMatters(deps.db, { state: query.state, ...(query.q ? { q: query.q } : {}), ...(seesAll(principal) ? {} : { memberUpn: principal.upn }) });
    const items = rows.filter((m) => canSeeMatter(principal, isMember(m, principal))).map(toMatter);
    await audit(deps, req, res, { action: 'matter.list', details: { state: query.state, matters: items.length } });
    res.json({ items });
  });

  router.post('/', async (req, res) => {
    const principal = principalOf(res);
    if (!canCreateMatter(principal)) throw new ForbiddenError('read_only', 'Creating matters needs the Solicitor, CaseHandler or Admin role.');
    const body = parseInput(createMatterSchema, req.body, 'matter');
    const members = [{ upn: principal.upn, name: principal.name }];
    for (const email of body.members) {
      const member = await resolveMember(deps, req, email);
      if (!members.some((m) => m.upn === member.upn)) members.push(member);
    }
    const id = await createMatter(deps.db, { reference: body.reference, title: body.title, matterType: body.matterType ?? null, members, createdBy: principal.upn }, deps.clock.now());
    if (id === undefined) throw new ConflictError('reference_taken', `A matter with reference ${body.reference} already exists.`);
    await audit(deps, req, res, { action: 'matter.create', target: matterTarget(body.reference), details: { members: members.length } });
    res.status(201).json(toMatter((await getMatter(deps.db, id))!));
  });

  router.get('/:id', async (req, res) => {
    const matter = await loadMatter(deps, principalOf(res), idOf(req));
    await audit(deps, req, res, { action: 'matter.read', target: matterTarget(matter.reference) });
    res.json(toMatter(matter));
  });

  // How long the matter's records are kept and the holds on it: for everyone who sees the matter,
  // so the people working it know it is held; only compliance officers place and release holds.
  router.get('/:id/retention', async (req, res) => {
    const matter = await loadMatter(deps, principalOf(res), idOf(req));
    const { years, ownEntry } = periodFor(deps.retention, matter.matterType);
    const holds = (await listHolds(deps.db, false, { matterId: matter.id })).map(toLegalHold);
    await audit(deps, req, res, { action: 'retention.read', target: matterTarget(matter.reference), details: { holds: holds.length } });
    res.json({ years, rule: ownEntry ? matter.matterType! : 'default', keptUntil: matter.closedAt === null ? null : iso(addYears(matter.closedAt, years)), holds });
  });

  router.post('/:id/close', async (req, res) => {
    const principal = principalOf(res);
    const matter = await loadMatter(deps, principal, idOf(req));
    if (!canManageMatter(principal, isMember(matter, principal))) throw new ForbiddenError('read_only', `Closing matter ${matter.reference} needs a place on it (Solicitor or CaseHandler) or the Admin role.`);
    assertCanClose(matter);
    await closeMatter(deps.db, matter.id, principal.upn, deps.clock.now());
    await audit(deps, req, res, { action: 'matter.close', target: matterTarget(matter.reference) });
    // Closing starts the retention period of every conversation it had: their open views say so.
    deps.feed.notifyRetention({ conversationIds: await conversationsEverLinked(deps.db, matter.id), matterIds: [matter.id] });
    res.json(toMatter((await getMatter(deps.db, matter.id))!));
  });

  router.post('/:id/members', async (req, res) => {
    const principal = principalOf(res);
    const matter = await loadMatter(deps, principal, idOf(req));
    if (!canManageMatter(principal, isMember(matter, principal))) throw new ForbiddenError('read_only', `Adding people to matter ${matter.reference} needs a place on it or the Admin role.`);
    const { email } = parseInput(addMemberSchema, req.body, 'member');
    const member = await resolveMember(deps, req, email);
    await addMember(deps.db, matter.id, member, principal.upn, deps.clock.now());
    // Adding someone lets them read the matter's conversations: recorded like any access change.
    await audit(deps, req, res, { action: 'matter.member_add', target: matterTarget(matter.reference), details: { member: member.upn } });
    res.json(toMatter((await getMatter(deps.db, matter.id))!));
  });

  return router;
}

const isMember = (matter: MatterRow, principal: Principal) => matter.members.some((m) => m.upn === principal.upn);

async function loadMatter(deps: ApiDeps, principal: Principal, id: number): Promise<MatterRow> {
  const matter = await getMatter(deps.db, id);
  if (!matter) throw new NotFoundError(`Matter ${id} does not exist.`);
  if (!canSeeMatter(principal, isMember(matter, principal))) throw new ForbiddenError('matter_forbidden', `You are not on matter ${matter.reference}.`);
  return matter;
}

/**
 * A member by email: looked up in the directory (Microsoft Graph, on behalf of the caller) when
 * one is configured, so the stored name is the person's real sign-in name; else taken as given.
 */
async function resolveMember(deps: ApiDeps, req: Request, email: string): Promise<{ upn: string; name: string | null }> {
  if (!deps.directory) return { upn: normalizeUpn(email), name: null };
  const found = await deps.directory.findUser(email, bearerOf(req));
  if (!found) throw new BadInputError('unknown_user', `Nobody in the directory has the address ${email}.`, [{ path: 'email', message: 'not found in the directory' }]);
  return { upn: normalizeUpn(found.upn), name: found.name };
}
