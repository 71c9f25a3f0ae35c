// Loads the tool catalogue before anything imports @hono/zod-openapi (as a process that ran
// other commands first does), then builds the API and prints what its OpenAPI route answers.
import '../../tools/index.ts';

const { apiFixture } = await import('./api.ts');
const fixture = await apiFixture('pglite', { traders: 2 });
try {
  const response = await fixture.app.request('/api/v1/openapi.json');
  const document = (await response.json()) as { components?: { schemas?: Record<string, unknown> } };
  console.log(JSON.stringify({ status: response.status, schemas: Object.keys(document.components?.schemas ?? {}) }));
} finally {
  await fixture.dispose();
}
