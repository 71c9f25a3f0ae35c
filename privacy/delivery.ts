import crypto from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { documents, documentVersions, type Database, type Department } from '../db/index.ts';
import { writePersonExport, type PersonExportHead } from './export.ts';

// An export asked through an agent is made only once the Security head or the CEO approved it,
// long after the conversation: the document is then kept where the company keeps its documents
// (documents + document_versions), for the person who asked alone, and fetched by the
// approval's id (`privacy export --approval`, GET /api/v1/privacy/exports/{id}). Such a
// document is in its own category, which every document tool leaves out (search, read,
// history, publish): only the privacy_export_document tool reads it, for its requester. It is
// a copy of the person's data, so erasing the person deletes it (erase.ts).

/** The category of stored exports: private to their requester, never listed or searched. */
export const PRIVACY_EXPORT_CATEGORY = 'privacy-export';

/** The stored export of an approved request. */
export function privacyExportSlug(approvalId: string): string {
  return `privacy-export-${approvalId}`;
}

export interface StoredPersonExport {
  readonly documentId: string;
  readonly slug: string;
  readonly sha256: string;
  readonly bytes: number;
  /** The export's summary and counts (the document's head). */
  readonly head: PersonExportHead;
}

/**
 * Makes the export of `email` and stores it as the document of approval `approvalId`, authored
 * by the requester (their staff id, when they are staff). A retried approval replaces what an
 * earlier run stored. The title names the request, never the person.
 */
export async function storePersonExport(
  db: Database,
  input: {
    readonly approvalId: string;
    readonly email: string;
    readonly authorStaffId: string | null;
    readonly department: Department | null;
    readonly now: () => Date;
    /** What must commit with the document, or not at all (the requester's notification). */
    readonly alongside?: (tx: Database, stored: Omit<StoredPersonExport, 'documentId'>) => Promise<void>;
  },
): Promise<StoredPersonExport> {
  const pieces: string[] = [];
  const head = await writePersonExport(db, input.email, (text) => void pieces.push(text), { now: input.now });
  const body = pieces.join('');
  const sha256 = crypto.createHash('sha256').update(body).digest('hex');
  const slug = privacyExportSlug(input.approvalId);
  const title = `Exportação de dados pessoais (LGPD), aprovação ${input.approvalId}`;
  const at = input.now();
  const documentId = await db.transaction(async (tx) => {
    await tx.delete(documents).where(and(eq(documents.slug, slug), eq(documents.category, PRIVACY_EXPORT_CATEGORY)));
    const [created] = await tx
      .insert(documents)
      .values({
        slug,
        title,
        category: PRIVACY_EXPORT_CATEGORY,
        department: input.department,
        // Never published: nothing but its requester's fetch reads it.
        status: 'draft',
        currentVersion: 1,
        createdAt: at,
        updatedAt: at,
      })
      .returning({ id: documents.id });
    await tx.insert(documentVersions).values({
      documentId: created!.id,
      version: 1,
      title,
      body,
      sha256,
      authorStaffId: input.authorStaffId,
      changeNote: 'LGPD export made on approval, for its requester',
      createdAt: at,
    });
    await input.alongside?.(tx, { slug, sha256, bytes: Buffer.byteLength(body), head });
    return created!.id;
  });
  return { documentId, slug, sha256, bytes: Buffer.byteLength(body), head };
}

export interface StoredExportDocument {
  readonly slug: string;
  readonly title: string;
  readonly body: string;
  readonly sha256: string;
  readonly createdAt: Date;
}

/** The stored export of approval `approvalId`, when there is one (an erasure of its person deletes it). */
export async function storedPersonExport(db: Database, approvalId: string): Promise<StoredExportDocument | undefined> {
  const [row] = await db
    .select({
      slug: documents.slug,
      title: documentVersions.title,
      body: documentVersions.body,
      sha256: documentVersions.sha256,
      createdAt: documentVersions.createdAt,
    })
    .from(documents)
    .innerJoin(documentVersions, and(eq(documentVersions.documentId, documents.id), eq(documentVersions.version, documents.currentVersion)))
    .where(and(eq(documents.slug, privacyExportSlug(approvalId)), eq(documents.category, PRIVACY_EXPORT_CATEGORY)));
  return row;
}

/** The condition (on `documents` aliased `alias`) that leaves stored exports out of a company-document query. */
export function notStoredExport(alias = 'd'): ReturnType<typeof sql> {
  return sql`${sql.identifier(alias)}.category <> ${PRIVACY_EXPORT_CATEGORY}`;
}
