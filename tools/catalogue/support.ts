import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import {
  companyTenantId,
  staff,
  TICKET_SLA_HOURS,
  queryRows,
  supportTickets,
  ticketMessages,
  users,
  type Database,
  type TenantScope,
} from '../../db/index.ts';
import { linkedChats } from '../../identity/index.ts';
import { enqueueNotification } from '../../notifications/index.ts';
import { notStoredExport } from '../../privacy/index.ts';
import { ToolRefusal, traderScope } from '../scope.ts';
import { defineTool, type ToolContext } from '../types.ts';
import { currentDocuments } from './documents.ts';
import { rankByMeaning } from './text-search.ts';

/** The ticket, if the actor may touch it: staff any, a trader only their own. */
async function ticketFor(ctx: ToolContext, ticketId: string) {
  const [ticket] = await ctx.db.select().from(supportTickets).where(eq(supportTickets.id, ticketId));
  if (!ticket || (ctx.actor.kind === 'trader' && ticket.tenantId !== ctx.actor.tenantId))
    throw new ToolRefusal('not_found', `No ticket ${ticketId}.`);
  return ticket;
}

/**
 * Who hears of a customer's reply on a ticket: the staff member it is assigned to, else the one
 * who answered it last (both while active), else the support department.
 */
async function ticketOwner(
  db: Database,
  ticket: typeof supportTickets.$inferSelect,
): Promise<{ userId: string } | { department: 'support' }> {
  if (ticket.assigneeStaffId) {
    const [assignee] = await db
      .select({ userId: staff.userId })
      .from(staff)
      .innerJoin(users, eq(users.id, staff.userId))
      .where(and(eq(staff.id, ticket.assigneeStaffId), eq(users.status, 'active')));
    if (assignee) return { userId: assignee.userId };
  }
  const [answerer] = await db
    .select({ userId: ticketMessages.authorUserId })
    .from(ticketMessages)
    .innerJoin(users, eq(users.id, ticketMessages.authorUserId))
    .innerJoin(staff, eq(staff.userId, ticketMessages.authorUserId))
    .where(and(eq(ticketMessages.ticketId, ticket.id), eq(ticketMessages.authorKind, 'staff'), eq(users.status, 'active')))
    .orderBy(desc(ticketMessages.createdAt))
    .limit(1);
  return answerer?.userId ? { userId: answerer.userId } : { department: 'support' };
}

export const supportTools = [
  defineTool({
    name: 'search_knowledge_base',
    description: 'Search the published help articles and policies; returns titles and short excerpts.',
    domain: 'support',
    effect: 'read',
    access: { departments: ['support', 'sales', 'documents'], traders: true },
    input: z.strictObject({ query: z.string().min(2).max(200) }),
    output: z.object({ articles: z.array(z.object({ slug: z.string(), title: z.string(), excerpt: z.string() })) }),
    async execute(ctx, input) {
      // Same expression as the GIN index on document_versions, so the search uses it.
      const rows = await queryRows<{ slug: string; title: string; body: string }>(
        ctx.db,
        sql`select d.slug, v.title, v.body from documents d
            join document_versions v on v.document_id = d.id and v.version = d.current_version
            where d.status = 'published' and ${notStoredExport('d')}
              and to_tsvector('simple', v.title || ' ' || v.body) @@ websearch_to_tsquery('simple', ${input.query})
            order by ts_rank(to_tsvector('simple', v.title || ' ' || v.body), websearch_to_tsquery('simple', ${input.query})) desc
            limit 5`,
      );
      // Nothing word for word (typos, accents, the other language): by meaning.
      const found = rows.length > 0 ? rows : rankByMeaning(input.query, await currentDocuments(ctx, { publishedOnly: true }), 5);
      return { articles: found.map((r) => ({ slug: r.slug, title: r.title, excerpt: r.body.split('\n')[0]!.slice(0, 240) })) };
    },
  }),
  defineTool({
    name: 'open_tickets',
    description: 'Open, pending and escalated tickets with their SLA (one trader by email, or all).',
    domain: 'support',
    effect: 'read',
    access: { departments: ['support'], traders: true },
    input: z.strictObject({
      email: z.email().optional(),
      limit: z.number().int().min(1).max(50).default(10),
      idPrefix: z
        .string()
        .regex(/^[0-9a-f]{4,32}$/i)
        .optional()
        .describe('only the ticket(s) whose id (without dashes) starts with this, e.g. the 8 characters shown as #1a2b3c4d'),
    }),
    output: z.object({
      total: z.number(),
      overdue: z.number(),
      tickets: z.array(
        z.object({
          id: z.string(),
          subject: z.string(),
          status: z.string(),
          priority: z.string(),
          slaDueAt: z.string(),
          overdue: z.boolean(),
          /** Who asked (the requester), when known. */
          customer: z.object({ name: z.string(), email: z.string() }).nullable(),
          /** The customer's latest message, its first 300 characters. */
          lastMessage: z.string().nullable(),
        }),
      ),
    }),
    async execute(ctx, input) {
      const scope: TenantScope | undefined = ctx.actor.kind === 'trader' || input.email ? await traderScope(ctx, input.email) : undefined;
      const rows = await ctx.db
        .select()
        .from(supportTickets)
        .where(
          and(
            inArray(supportTickets.status, ['open', 'pending', 'escalated']),
            scope ? eq(supportTickets.tenantId, scope.tenantId) : undefined,
            input.idPrefix ? sql`replace(${supportTickets.id}::text, '-', '') like ${`${input.idPrefix.toLowerCase()}%`}` : undefined,
          ),
        )
        .orderBy(asc(supportTickets.slaDueAt));
      const now = ctx.now().getTime();
      const shown = rows.slice(0, input.limit);
      const requesterIds = [...new Set(shown.flatMap((t) => (t.requesterUserId ? [t.requesterUserId] : [])))];
      const people = new Map(
        requesterIds.length === 0
          ? []
          : (
              await ctx.db.select({ id: users.id, name: users.name, email: users.email }).from(users).where(inArray(users.id, requesterIds))
            ).map((u) => [u.id, { name: u.name, email: u.email }]),
      );
      const latest = new Map<string, string>();
      if (shown.length > 0)
        for (const m of await ctx.db
          .select({ ticketId: ticketMessages.ticketId, body: ticketMessages.body })
          .from(ticketMessages)
          .where(
            and(
              inArray(
                ticketMessages.ticketId,
                shown.map((t) => t.id),
              ),
              eq(ticketMessages.authorKind, 'customer'),
            ),
          )
          .orderBy(desc(ticketMessages.createdAt)))
          if (!latest.has(m.ticketId)) latest.set(m.ticketId, m.body.slice(0, 300));
      const overdue = rows.filter((t) => t.slaDueAt.getTime() < now).length;
      const tickets = shown.map((t) => ({
        id: t.id,
        subject: t.subject,
        status: t.status,
        priority: t.priority,
        slaDueAt: t.slaDueAt.toISOString(),
        overdue: t.slaDueAt.getTime() < now,
        customer: (t.requesterUserId && people.get(t.requesterUserId)) || null,
        lastMessage: latest.get(t.id) ?? null,
      }));
      return { total: rows.length, overdue, tickets };
    },
  }),
  defineTool({
    name: 'open_ticket',
    description: 'Open a support ticket for the trader asking (or for a trader by email).',
    domain: 'support',
    effect: 'write',
    access: { departments: ['support'], traders: true },
    input: z.strictObject({
      subject: z.string().min(3).max(200),
      message: z.string().min(1).max(4000),
      priority: z.enum(['low', 'normal', 'high', 'urgent']).default('normal'),
      email: z.email().optional(),
    }),
    output: z.object({ ticketId: z.string(), slaDueAt: z.string() }),
    async execute(ctx, input) {
      const scope = await traderScope(ctx, input.email);
      const slaDueAt = new Date(ctx.now().getTime() + TICKET_SLA_HOURS[input.priority] * 3_600_000);
      return ctx.db.transaction(async (tx) => {
        const [ticket] = await tx
          .insert(supportTickets)
          .values({
            tenantId: scope.tenantId,
            requesterUserId: ctx.actor.kind === 'trader' ? ctx.actor.userId : null,
            subject: input.subject,
            priority: input.priority,
            channel: 'agent',
            slaDueAt,
            createdAt: ctx.now(),
          })
          .returning({ id: supportTickets.id });
        await tx.insert(ticketMessages).values({
          ticketId: ticket!.id,
          tenantId: scope.tenantId,
          authorKind: ctx.actor.kind === 'trader' ? 'customer' : 'staff',
          authorUserId: ctx.actor.kind === 'system' ? null : ctx.actor.userId,
          body: input.message,
          createdAt: ctx.now(),
        });
        return { ticketId: ticket!.id, slaDueAt: slaDueAt.toISOString() };
      });
    },
  }),
  defineTool({
    name: 'answer_ticket',
    description: "Reply to a ticket (staff: also to the customer's Telegram; a trader: to their own ticket, reopening it).",
    domain: 'support',
    effect: 'write',
    access: { departments: ['support'], traders: true },
    input: z.strictObject({ ticketId: z.uuid(), message: z.string().min(1).max(4000) }),
    output: z.object({
      ticketId: z.string(),
      status: z.string(),
      /** The customer who asked, when known. */
      customer: z.object({ name: z.string(), email: z.string() }).nullable(),
      /** Where the customer reads the answer: their Telegram chat (queued in the outbox), or only the ticket. */
      deliveredTo: z.enum(['telegram', 'ticket']),
    }),
    async execute(ctx, input) {
      const ticket = await ticketFor(ctx, input.ticketId);
      const status = ctx.actor.kind === 'trader' ? 'open' : 'pending';
      const [requester] = ticket.requesterUserId
        ? await ctx.db
            .select({ id: users.id, name: users.name, email: users.email, locale: users.locale })
            .from(users)
            .where(eq(users.id, ticket.requesterUserId))
        : [];
      // A customer writing back: Support hears of it (whoever answered them, else the department).
      const supportRecipient = ctx.actor.kind === 'trader' ? await ticketOwner(ctx.db, ticket) : undefined;
      const companyId = supportRecipient ? ((await companyTenantId(ctx.db)) ?? ticket.tenantId) : undefined;
      // Staff answering a customer who reads Telegram: the answer goes to their chat too.
      const toTelegram =
        ctx.actor.kind !== 'trader' && requester !== undefined && (await linkedChats(ctx.db, [requester.id])).has(requester.id);
      await ctx.db.transaction(async (tx) => {
        await tx.insert(ticketMessages).values({
          ticketId: ticket.id,
          tenantId: ticket.tenantId,
          authorKind: ctx.actor.kind === 'trader' ? 'customer' : 'staff',
          authorUserId: ctx.actor.kind === 'system' ? null : ctx.actor.userId,
          body: input.message,
          createdAt: ctx.now(),
        });
        await tx
          .update(supportTickets)
          .set({ status, firstResponseAt: ticket.firstResponseAt ?? (ctx.actor.kind === 'staff' ? ctx.now() : null), updatedAt: ctx.now() })
          .where(eq(supportTickets.id, ticket.id));
        if (supportRecipient && companyId) {
          await enqueueNotification(tx, {
            tenantId: companyId,
            to: supportRecipient,
            type: 'ticket_customer_reply',
            payload: {
              ticketId: ticket.id,
              subject: ticket.subject.slice(0, 200),
              ...(requester ? { customerName: requester.name.slice(0, 200) } : {}),
              excerpt: input.message.slice(0, 1000),
            },
          });
        }
        if (toTelegram && requester) {
          const en = requester.locale === 'en';
          await enqueueNotification(tx, {
            tenantId: ticket.tenantId,
            to: { userId: requester.id },
            type: 'message',
            payload: {
              text: en
                ? `💬 Support answered your ticket "${ticket.subject}":\n\n${input.message}\n\nReply here if you need anything else.`
                : `💬 O suporte respondeu seu chamado "${ticket.subject}":\n\n${input.message}\n\nSe precisar de mais alguma coisa, responda aqui.`,
            },
          });
        }
      });
      return {
        ticketId: ticket.id,
        status,
        customer: requester ? { name: requester.name, email: requester.email } : null,
        deliveredTo: toTelegram ? ('telegram' as const) : ('ticket' as const),
      };
    },
  }),
  defineTool({
    name: 'escalate_ticket',
    description: 'Escalate a ticket to the support head with a reason; raises its priority.',
    domain: 'support',
    effect: 'write',
    access: { departments: ['support'] },
    input: z.strictObject({ ticketId: z.uuid(), reason: z.string().min(3).max(500) }),
    output: z.object({ ticketId: z.string(), status: z.string(), priority: z.string() }),
    async execute(ctx, input) {
      const ticket = await ticketFor(ctx, input.ticketId);
      const priority = ticket.priority === 'urgent' || ticket.priority === 'high' ? 'urgent' : 'high';
      await ctx.db.transaction(async (tx) => {
        await tx
          .update(supportTickets)
          .set({ status: 'escalated', priority, updatedAt: ctx.now() })
          .where(eq(supportTickets.id, ticket.id));
        await tx.insert(ticketMessages).values({
          ticketId: ticket.id,
          tenantId: ticket.tenantId,
          authorKind: 'agent',
          body: `Escalated: ${input.reason}`,
          createdAt: ctx.now(),
        });
      });
      return { ticketId: ticket.id, status: 'escalated', priority };
    },
  }),
  defineTool({
    name: 'close_ticket',
    description: 'Close a ticket as resolved, with a short note kept on it.',
    domain: 'support',
    effect: 'write',
    access: { departments: ['support'] },
    input: z.strictObject({ ticketId: z.uuid(), note: z.string().min(3).max(500) }),
    output: z.object({ ticketId: z.string(), status: z.string() }),
    async execute(ctx, input) {
      const ticket = await ticketFor(ctx, input.ticketId);
      if (ticket.status === 'resolved' || ticket.status === 'closed') return { ticketId: ticket.id, status: ticket.status };
      await ctx.db.transaction(async (tx) => {
        await tx
          .update(supportTickets)
          .set({ status: 'resolved', resolvedAt: ctx.now(), updatedAt: ctx.now() })
          .where(eq(supportTickets.id, ticket.id));
        await tx.insert(ticketMessages).values({
          ticketId: ticket.id,
          tenantId: ticket.tenantId,
          authorKind: ctx.actor.kind === 'trader' ? 'customer' : 'staff',
          authorUserId: ctx.actor.kind === 'system' ? null : ctx.actor.userId,
          body: `Resolved: ${input.note}`,
          createdAt: ctx.now(),
        });
      });
      return { ticketId: ticket.id, status: 'resolved' };
    },
  }),
];
