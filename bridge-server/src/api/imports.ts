import express, { type Request, type Router } from 'express';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { importMediaTypes, importQuerySchema, maxImportBytes, type ImportSummary } from '@wa-bridge/shared/api/imports';
import { BadInputError, PayloadTooLargeError } from '../core/errors.js';
import { WallClock } from '../core/wall-time.js';
import { importExport, scanExport, type ExportScan } from '../flows/import.js';
import { principalOf } from '../auth/middleware.js';
import { openExportReader } from '../channels/chat-export/read.js';
import { hashFile, openExportSource } from '../channels/chat-export/source.js';
import { SqlImportStore } from '../store/imports.js';
import { SqlStore } from '../store/sql-store.js';
import { audit, conversationTarget } from './audit.js';
import { idOf, parseInput, type ApiDeps } from './context.js';
import { loadConversationToAct } from './load.js';

/**
 * Chat export upload: the body is the export itself, streamed to a private temporary file so a
 * large zip never sits in memory, then read by the same flow as `wa-bridge import`. The whole
 * file is checked before anything is stored, so a refused file leaves the archive as it was.
 */
export function importsRouter(deps: ApiDeps, limit = maxImportBytes): Router {
  const router = express.Router();

  router.post('/:id/imports', async (req, res) => {
    const principal = principalOf(res);
    const { conversation } = await loadConversationToAct(deps, principal, idOf(req), 'import chat exports into it');
    const query = parseInput(importQuerySchema, req.query, 'import query');
    const mediaType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (!(importMediaTypes as readonly string[]).includes(mediaType)) {
      throw new BadInputError('bad_media_type', `Send the export as the body with Content-Type ${importMediaTypes.join(' or ')}; got ${JSON.stringify(mediaType || 'none')}.`);
    }
    const clock = zoneClock(query.timeZone ?? deps.timeZone);
    const named = (query.firmAuthors ?? '').split(',').map((a) => a.trim()).filter((a) => a.length > 0);

    const dir = await mkdtemp(path.join(tmpdir(), 'wa-bridge-import-'));
    try {
      const file = path.join(dir, 'export');
      await saveBody(req, file, limit);
      const source = await openExportSource(file);
      try {
        const reader = await openExportReader(source);
        const scan = await scanExport(reader);
        const firmAuthors = placeAuthors(scan, named, conversation.clientName);
        const sha256 = await hashFile(file);
        const store = new SqlStore(deps.db, conversation.tenant);
        const result = await importExport(
          { store, clock: deps.clock, tenant: conversation.tenant, imports: new SqlImportStore(conversation.tenant), blobs: deps.blobs },
          {
            conversation,
            source: { name: path.basename(query.fileName), sha256, size: source.size, kind: source.kind },
            clock,
            dateOrder: reader.dateOrder,
            firmAuthors,
            importedBy: principal.upn,
            mirror: false,
          },
          reader,
          scan,
        );
        await audit(deps, req, res, {
          action: 'import',
          target: conversationTarget(conversation.chatToken),
          details: { importId: result.importId, sha256, messages: result.messages, added: result.added, duplicates: result.duplicates },
        });
        if (result.added > 0) deps.feed.notifyConversation(conversation.id);
        const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
        const summary: ImportSummary = {
          importId: result.importId,
          conversationId: conversation.id,
          messages: result.messages,
          added: result.added,
          duplicates: result.duplicates,
          mediaLinked: result.mediaLinked,
          mediaMissing: result.mediaMissing,
          firstMessageAt: iso(result.firstMessageAt),
          lastMessageAt: iso(result.lastMessageAt),
          timeZone: clock.timeZone,
          dateOrder: reader.dateOrder,
          sourceSha256: sha256,
          warnings: result.warnings,
        };
        res.status(201).json(summary);
      } finally {
        await source.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  return router;
}

function zoneClock(timeZone: string): WallClock {
  try {
    return new WallClock(timeZone);
  } catch {
    throw new BadInputError('bad_time_zone', `timeZone: ${JSON.stringify(timeZone)} is not an IANA time zone such as Europe/London.`);
  }
}

/** Streams the body to FILE (owner-only), refusing it as soon as it passes LIMIT bytes. */
async function saveBody(req: Request, file: string, limit: number): Promise<void> {
  const tooLarge = () => new PayloadTooLargeError(`The export is larger than ${Math.round(limit / 1024 / 1024)} MiB; import it on the server with wa-bridge import.`);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    // Drain without storing, so the client reads the answer instead of a reset connection.
    req.resume();
    throw tooLarge();
  }
  let seen = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      done(seen > limit ? tooLarge() : null, chunk);
    },
  });
  await pipeline(req, counter, createWriteStream(file, { mode: 0o600 }));
  if (seen === 0) throw new BadInputError('empty_file', 'The request body is empty: send the export file itself.');
}

/**
 * Which authors are the firm. Named ones must occur in the export. Otherwise a chat of two where
 * one is the conversation's client by name makes the other the firm; anything else must be named,
 * since a wrong guess would record every message in the wrong direction.
 */
function placeAuthors(scan: ExportScan, named: string[], clientName: string | null): string[] {
  const authors = [...scan.authors.keys()];
  const list = authors.map((a) => JSON.stringify(a)).join(', ');
  for (const name of named) {
    if (!scan.authors.has(name)) throw new BadInputError('unknown_author', `firmAuthors: ${JSON.stringify(name)} wrote nothing in this export (authors: ${list}).`);
  }
  if (named.length > 0) return named;
  if (clientName && authors.includes(clientName) && authors.length <= 2) return authors.filter((a) => a !== clientName);
  if (authors.length === 0) return [];
  throw new BadInputError('authors_unplaced', `Cannot tell which authors are the firm: name them in firmAuthors (authors: ${list}).`);
}
