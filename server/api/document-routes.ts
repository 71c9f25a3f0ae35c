import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { CONSENT_DOCUMENTS } from '../../privacy/index.ts';
import type { ApiEnv } from './app.ts';
import { apiErrorSchema, errorResponses } from './errors.ts';
import type { ApiRouteKit } from './trader-routes.ts';

// The texts people agree to, readable in full (issue 17: the dashboard's terms page shows them):
// the terms of use and the privacy policy as published now, each the consent_document tool as
// the signed-in person (typed, audited like every tool call). Other company documents stay with
// the staff's document tools.

const slugs = Object.values(CONSENT_DOCUMENTS) as [string, ...string[]];

const documentParams = z.object({
  slug: z.enum(slugs, { error: `expected ${slugs.join(' or ')}` }).openapi({
    param: { name: 'slug', in: 'path' },
    description: 'termos-de-uso (terms of use) or politica-de-privacidade (privacy policy)',
  }),
});

export function registerDocumentRoutes(kit: ApiRouteKit): void {
  const { api } = kit;
  api.use('/documents/*', kit.requirePerson);
  api.openapi(
    createRoute({
      method: 'get',
      path: '/documents/{slug}',
      tags: ['privacy'],
      summary: 'The terms of use or the privacy policy as published now: title, version and text',
      description:
        'The consent_document tool. `version` is written as a consent to the text records it (`v` and the version number), so it can be compared with GET /consents. 404 when the document is not published.',
      security: [{ session: [] }],
      request: { params: documentParams },
      responses: {
        200: {
          description: 'The document.',
          content: { 'application/json': { schema: kit.toolOutput('consent_document').openapi('ConsentDocument') } },
        },
        ...errorResponses,
        404: { description: 'The document is not published.', content: { 'application/json': { schema: apiErrorSchema } } },
      },
    }),
    (async (c: Context<ApiEnv, string, { out: { param: z.infer<typeof documentParams> } }>) =>
      c.json(await kit.callTool(c, 'consent_document', { slug: c.req.valid('param').slug }))) as never,
  );
}
