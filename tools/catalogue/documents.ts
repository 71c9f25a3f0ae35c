import crypto from 'node:crypto';
import { and, desc, eq, ne, sql } from 'drizzle-orm';
import { z } from 'zod';
import { documentStatuses, documentVersions, documents, queryRows, staff, users } from '../../db/index.ts';
import { notStoredExport, PRIVACY_EXPORT_CATEGORY } from '../../privacy/index.ts';
import { ToolRefusal } from '../scope.ts';
import { foldText } from '../../i18n/index.ts';
import { containing, foldSql } from './fold.ts';
import { rankByMeaning } from './text-search.ts';
import { defineTool, type ToolContext } from '../types.ts';

const slug = z.string().regex(/^[a-z0-9][a-z0-9-]{1,80}$/, 'a document slug such as politica-de-reembolso');

// Stored LGPD exports (privacy/delivery.ts) are documents too, but their requester's alone: no
// tool here lists, searches, reads or publishes over them (privacy_export_document fetches them).

async function documentBySlug(ctx: ToolContext, documentSlug: string) {
  const [document] = await ctx.db
    .select()
    .from(documents)
    .where(and(eq(documents.slug, documentSlug), ne(documents.category, PRIVACY_EXPORT_CATEGORY)));
  if (!document) throw new ToolRefusal('not_found', `No document ${documentSlug}; search_documents finds the slug.`);
  return document;
}

type Hit = {
  slug: string;
  title: string;
  category: string;
  department: string;
  status: string;
  version: number;
  body: string;
  updated_at: string;
};

/** Current versions of the documents that are not archived (a company has dozens to hundreds). */
export async function currentDocuments(
  ctx: ToolContext,
  options: { category?: string | undefined; publishedOnly?: boolean } = {},
): Promise<Hit[]> {
  const category = options.category ? sql`and d.category = ${options.category}` : sql``;
  const status = options.publishedOnly ? sql`d.status = 'published'` : sql`d.status <> 'archived'`;
  return queryRows<Hit>(
    ctx.db,
    sql`select d.slug, v.title, d.category, d.department::text, d.status::text, v.version, v.body, d.updated_at::text
        from documents d join document_versions v on v.document_id = d.id and v.version = d.current_version
        where ${status} and ${notStoredExport('d')} ${category}`,
  );
}

/** The document a call names: by slug, or by its name in words (the best match by meaning). */
async function namedDocument(ctx: ToolContext, input: { slug?: string | undefined; title?: string | undefined }) {
  if (input.slug) return documentBySlug(ctx, input.slug);
  const [best] = rankByMeaning(input.title ?? '', await currentDocuments(ctx), 1);
  if (!best) throw new ToolRefusal('not_found', `No document matches "${input.title}"; search_documents lists them.`);
  return documentBySlug(ctx, best.slug);
}

/** One document named by slug or by its name in words. */
const documentRef = {
  slug: slug.optional(),
  title: z.string().min(2).max(200).optional().describe("the document's name in words, when the slug is not known"),
};
const namesDocument = (input: { slug?: string | undefined; title?: string | undefined }) =>
  input.slug !== undefined || input.title !== undefined;
const NAME_IT = { message: 'name the document: slug or title', path: ['slug'] };
const getDocumentInput = z.strictObject({ ...documentRef, version: z.number().int().min(1).optional() }).refine(namesDocument, NAME_IT);
const documentHistoryInput = z.strictObject(documentRef).refine(namesDocument, NAME_IT);

export const documentTools = [
  defineTool({
    name: 'search_documents',
    description: 'Full-text search of company documents (title and text of the current version); returns slugs.',
    domain: 'documents',
    effect: 'read',
    access: { departments: ['documents', 'finance', 'marketing', 'sales', 'security', 'support', 'audit', 'settings', 'subscriptions'] },
    input: z.strictObject({
      query: z.string().min(2).max(200),
      category: z.enum(['policy', 'procedure', 'kb', 'contract', 'report']).optional(),
      limit: z.number().int().min(1).max(20).default(5),
    }),
    output: z.object({
      documents: z.array(
        z.object({
          slug: z.string(),
          title: z.string(),
          category: z.string(),
          department: z.string(),
          status: z.string(),
          version: z.number(),
          excerpt: z.string(),
          updatedAt: z.string(),
        }),
      ),
    }),
    async execute(ctx, input) {
      const category = input.category ? sql`and d.category = ${input.category}` : sql``;
      // The same expression as the GIN index on document_versions, so the search uses it.
      let rows = await queryRows<Hit>(
        ctx.db,
        sql`select d.slug, v.title, d.category, d.department::text, d.status::text, v.version, v.body, d.updated_at::text
            from documents d join document_versions v on v.document_id = d.id and v.version = d.current_version
            where d.status <> 'archived' and ${notStoredExport('d')} ${category}
              and to_tsvector('simple', v.title || ' ' || v.body) @@ websearch_to_tsquery('simple', ${input.query})
            order by ts_rank(to_tsvector('simple', v.title || ' ' || v.body), websearch_to_tsquery('simple', ${input.query})) desc, d.slug
            limit ${input.limit}`,
      );
      if (rows.length === 0) {
        // Nothing exact (staff often type without accents): every word as an accent-free substring.
        const words = foldText(input.query)
          .split(/[^a-z0-9]+/)
          .filter((w) => w.length >= 3)
          .slice(0, 6);
        if (words.length > 0) {
          const text = foldSql(sql`v.title || ' ' || v.body || ' ' || d.slug`);
          rows = await queryRows<Hit>(
            ctx.db,
            sql`select d.slug, v.title, d.category, d.department::text, d.status::text, v.version, v.body, d.updated_at::text
                from documents d join document_versions v on v.document_id = d.id and v.version = d.current_version
                where d.status <> 'archived' and ${notStoredExport('d')} ${category}
                  and ${sql.join(
                    words.map((w) => sql`${text} like ${containing(w)}`),
                    sql` and `,
                  )}
                order by d.updated_at desc, d.slug
                limit ${input.limit}`,
          );
        }
      }
      // Still nothing: by meaning, in either language ("the privacy policy", "chave vazada").
      if (rows.length === 0) rows = rankByMeaning(input.query, await currentDocuments(ctx, { category: input.category }), input.limit);
      return {
        documents: rows.map((r) => ({
          slug: r.slug,
          title: r.title,
          category: r.category,
          department: r.department,
          status: r.status,
          version: Number(r.version),
          excerpt: r.body.split('\n')[0]!.slice(0, 200),
          updatedAt: new Date(r.updated_at).toISOString(),
        })),
      };
    },
  }),
  defineTool({
    name: 'get_document',
    description: 'The text of one document (by slug or name), its current version or an older one.',
    domain: 'documents',
    effect: 'read',
    access: { departments: ['documents', 'finance', 'marketing', 'sales', 'security', 'support', 'audit', 'settings', 'subscriptions'] },
    input: getDocumentInput,
    output: z.object({
      slug: z.string(),
      title: z.string(),
      status: z.string(),
      version: z.number(),
      currentVersion: z.number(),
      body: z.string(),
      sha256: z.string(),
      createdAt: z.string(),
    }),
    async execute(ctx, input) {
      const document = await namedDocument(ctx, input);
      const version = input.version ?? document.currentVersion;
      const [row] = await ctx.db
        .select()
        .from(documentVersions)
        .where(and(eq(documentVersions.documentId, document.id), eq(documentVersions.version, version)));
      if (!row) throw new ToolRefusal('not_found', `${document.slug} has no version ${version} (current: ${document.currentVersion}).`);
      return {
        slug: document.slug,
        title: row.title,
        status: document.status,
        version,
        currentVersion: document.currentVersion,
        body: row.body.slice(0, 4000),
        sha256: row.sha256,
        createdAt: row.createdAt.toISOString(),
      };
    },
  }),
  defineTool({
    name: 'document_history',
    description: 'Every version of one document (by slug or name), newest first: author, date, change note.',
    domain: 'documents',
    effect: 'read',
    access: { departments: ['documents', 'audit'] },
    input: documentHistoryInput,
    output: z.object({
      slug: z.string(),
      title: z.string(),
      status: z.string(),
      currentVersion: z.number(),
      versions: z.array(
        z.object({
          version: z.number(),
          title: z.string(),
          author: z.string().nullable(),
          changeNote: z.string().nullable(),
          sha256: z.string(),
          chars: z.number(),
          createdAt: z.string(),
        }),
      ),
    }),
    async execute(ctx, input) {
      const document = await namedDocument(ctx, input);
      const rows = await ctx.db
        .select({ version: documentVersions, author: users.name })
        .from(documentVersions)
        .leftJoin(staff, eq(staff.id, documentVersions.authorStaffId))
        .leftJoin(users, eq(users.id, staff.userId))
        .where(eq(documentVersions.documentId, document.id))
        .orderBy(desc(documentVersions.version));
      return {
        slug: document.slug,
        title: document.title,
        status: document.status,
        currentVersion: document.currentVersion,
        versions: rows.map(({ version: v, author }) => ({
          version: v.version,
          title: v.title,
          author,
          changeNote: v.changeNote,
          sha256: v.sha256,
          chars: v.body.length,
          createdAt: v.createdAt.toISOString(),
        })),
      };
    },
  }),
  defineTool({
    name: 'publish_document',
    description: 'Publish a new version of a document (by slug) with its full new text; older versions stay.',
    domain: 'documents',
    effect: 'write',
    access: { departments: ['documents'] },
    input: z.strictObject({
      slug,
      body: z.string().min(10).max(50_000).describe('the full text of the new version'),
      title: z.string().min(3).max(200).optional(),
      changeNote: z.string().min(2).max(300).optional(),
      category: z.enum(['policy', 'procedure', 'kb', 'contract', 'report']).optional().describe('only for a new document'),
    }),
    output: z.object({ slug: z.string(), version: z.number(), status: z.enum(documentStatuses), sha256: z.string(), created: z.boolean() }),
    async execute(ctx, input) {
      const sha256 = crypto.createHash('sha256').update(input.body).digest('hex');
      const author = ctx.actor.kind === 'staff' ? ctx.actor.staffId : null;
      return ctx.db.transaction(async (tx) => {
        // Locks the document, so two publishers get consecutive versions instead of a clash.
        const [existing] = await tx.select().from(documents).where(eq(documents.slug, input.slug)).for('update');
        if (existing?.category === PRIVACY_EXPORT_CATEGORY)
          throw new ToolRefusal('forbidden', `${input.slug} is a stored LGPD export, not a company document; choose another slug.`);
        if (!existing) {
          if (!input.category || !input.title)
            throw new ToolRefusal('not_found', `No document ${input.slug}; to create it give its title and category.`);
          const [created] = await tx
            .insert(documents)
            .values({
              slug: input.slug,
              title: input.title,
              category: input.category,
              department: ctx.actor.kind === 'staff' ? ctx.actor.department : null,
              status: 'published',
              currentVersion: 1,
              createdAt: ctx.now(),
              updatedAt: ctx.now(),
            })
            .returning();
          await tx.insert(documentVersions).values({
            documentId: created!.id,
            version: 1,
            title: input.title,
            body: input.body,
            sha256,
            authorStaffId: author,
            changeNote: input.changeNote ?? 'Versão inicial',
            createdAt: ctx.now(),
          });
          return { slug: input.slug, version: 1, status: 'published' as const, sha256, created: true };
        }
        const [current] = await tx
          .select()
          .from(documentVersions)
          .where(and(eq(documentVersions.documentId, existing.id), eq(documentVersions.version, existing.currentVersion)));
        const title = input.title ?? current?.title ?? existing.title;
        if (current?.sha256 === sha256 && current.title === title && existing.status === 'published') {
          throw new ToolRefusal(
            'not_found',
            `That text is identical to version ${existing.currentVersion} of ${input.slug}; nothing to publish.`,
          );
        }
        const [{ next }] = (await queryRows<{ next: number }>(
          tx,
          sql`select coalesce(max(version), 0)::int + 1 as next from document_versions where document_id = ${existing.id}`,
        )) as [{ next: number }];
        await tx.insert(documentVersions).values({
          documentId: existing.id,
          version: next,
          title,
          body: input.body,
          sha256,
          authorStaffId: author,
          changeNote: input.changeNote ?? null,
          createdAt: ctx.now(),
        });
        await tx
          .update(documents)
          .set({ title, status: 'published', currentVersion: next, updatedAt: ctx.now() })
          .where(eq(documents.id, existing.id));
        return { slug: input.slug, version: next, status: 'published' as const, sha256, created: false };
      });
    },
  }),
];
