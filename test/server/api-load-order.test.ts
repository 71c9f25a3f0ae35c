import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// zod 4 gives a schema its methods when it is built, so the tools' schemas built before
// @hono/zod-openapi extends zod have no .openapi. The suite shares modules between test files
// (isolate: false), so which came first depends on the order files run in; a fresh process
// that loads the tools first pins the case down.

const CHILD = fileURLToPath(new URL('../support/api-load-order-child.ts', import.meta.url));

describe('the API over tool schemas built before zod was extended', () => {
  it('serves its OpenAPI document with the tools’ answers as named components', { timeout: 120_000 }, () => {
    const run = spawnSync(process.execPath, [CHILD], { encoding: 'utf8', timeout: 110_000 });
    expect(run.status, run.stderr).toBe(0);
    const printed = JSON.parse(run.stdout.trim().split('\n').pop()!) as { status: number; schemas: string[] };
    expect(printed.status).toBe(200);
    expect(printed.schemas).toEqual(expect.arrayContaining(['BotList', 'BotDetails']));
  });
});
