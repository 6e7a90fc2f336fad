import { createReadStream } from 'node:fs';
import express, { type Router } from 'express';
import { bundleShaHeader, exportRequest } from '@wa-bridge/shared/api/exports';
import { managesHolds, seesAll } from '../core/access.js';
import { BadInputError, ForbiddenError, NotFoundError } from '../core/errors.js';
import { phoneProblem, subjectTarget, waIdOfPhone, type Subject } from '../core/subject.js';
import { isKnownTimeZone } from '../core/zoned-time.js';
import { principalOf } from '../auth/middleware.js';
import { conversationsOfMatter } from '../store/archive.js';
import { findConversationsByClient } from '../store/retention.js';
import { audit, conversationTarget, matterTarget } from './audit.js';
import { parseInput, type ApiDeps } from './context.js';
import { loadConversation } from './load.js';

/**
 * POST /api/exports: an evidence bundle, answered as the zip itself. Compliance officers and
 * admins may export anything; a case handler the conversations they can see. The export is in
 * the audit trail with the bundle's hash before a byte of it is sent.
 */
export function exportsRouter(deps: ApiDeps): Router {
  const router = express.Router();
  router.post('/', async (req, res) => {
    const principal = principalOf(res);
    if (!seesAll(principal) && !principal.roles.includes('CaseHandler')) throw new ForbiddenError('export_forbidden', 'Evidence exports need the ComplianceOfficer, Admin or CaseHandler role.');
    if (!deps.exportEvidence) throw new NotFoundError('Evidence export is not available on this bridge.');
    const request = parseInput(exportRequest, req.body, 'export request');
    if (!isKnownTimeZone(request.timeZone)) throw new BadInputError('bad_request', 'The export request is not valid.', [{ path: 'timeZone', message: 'not a time zone name such as Europe/London' }]);
    let chatIds: string[];
    let subject: Subject | undefined;
    if (request.subject !== undefined) {
      if (!managesHolds(principal)) throw new ForbiddenError('subject_access_forbidden', 'Subject access exports are made by compliance officers (the ComplianceOfficer role).');
      subject = subjectOfRequest(request.subject);
      chatIds = (await findConversationsByClient(deps.db, subject)).map((conversation) => conversation.chatToken);
      if (chatIds.length === 0) throw new NotFoundError(`No conversation with ${describeSubject(subject)} is in the archive.`);
    } else if (request.matter !== undefined) {
      const found = await conversationsOfMatter(deps.db, request.matter);
      if (found === undefined) throw new NotFoundError(`No matter has reference ${request.matter}.`);
      if (found.length === 0) throw new BadInputError('empty_matter', `Matter ${request.matter} has no conversations to export.`);
      chatIds = found;
    } else {
      chatIds = request.conversations!;
    }
    // Throws 404 or 403 for a conversation the user may not see.
    if (!seesAll(principal)) for (const chatId of chatIds) await loadConversation(deps, principal, { chatId });
    const from = request.from === undefined ? undefined : Date.parse(request.from);
    const to = request.to === undefined ? undefined : Date.parse(request.to);
    const result = await deps.exportEvidence({
      conversations: chatIds,
      ...(request.matter !== undefined ? { matter: request.matter } : {}),
      ...(from !== undefined ? { from } : {}),
      ...(to !== undefined ? { to } : {}),
      timeZone: request.timeZone,
      exportedBy: `${principal.name ? `${principal.name} <${principal.upn}>` : principal.upn}${subject ? ' (subject access request)' : ''}`,
    });
    try {
      await audit(
        deps,
        req,
        res,
        subject
          ? { action: 'gdpr.access', target: subjectTarget(subject), details: { sha256: result.sha256, events: result.events, conversations: chatIds.length, chatIds: chatIds.join(','), from: request.from ?? null, to: request.to ?? null } }
          : {
              action: 'export',
              target: request.matter !== undefined ? matterTarget(request.matter) : chatIds.map(conversationTarget).join(','),
              details: { sha256: result.sha256, events: result.events, conversations: chatIds.length, from: request.from ?? null, to: request.to ?? null },
            },
      );
    } catch (error) {
      await result.cleanup();
      throw error;
    }
    const label = subject ? `subject-access-${'waId' in subject ? subject.waId : subject.userId}` : `evidence-${request.matter ?? chatIds[0]!}`;
    const name = `${label.replace(/[^A-Za-z0-9._-]/g, '_')}-${new Date(deps.clock.now()).toISOString().slice(0, 10)}.zip`;
    res.set({ 'content-type': 'application/zip', 'content-disposition': `attachment; filename="${name}"`, [bundleShaHeader]: result.sha256 });
    const stream = createReadStream(result.path);
    res.on('close', () => void result.cleanup());
    stream.pipe(res);
  });
  return router;
}

/** The person a subject access request names; a number must be international. */
function subjectOfRequest(given: { phone?: string; user?: string }): Subject {
  if (given.user !== undefined) return { userId: given.user };
  const waId = waIdOfPhone(given.phone!);
  const problem = phoneProblem(waId);
  if (problem) {
    const message = problem === 'national' ? 'a national number: give it with its country code, such as +44 7700 900123 for 07700 900123' : 'expected an international number such as +44 7700 900123';
    throw new BadInputError('bad_request', 'The export request is not valid.', [{ path: 'subject.phone', message }]);
  }
  return { waId };
}

const describeSubject = (subject: Subject): string => ('waId' in subject ? `+${subject.waId}` : `WhatsApp user ${subject.userId}`);
