import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, queryRows } from '../../db/index.ts';

// The embedded engine's buffer pool lives in its WASM heap, which never shrinks: it is kept
// small (db/client.ts), in a data folder (at every open, so folders made before keep up) and in
// memory alike.

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-embedded-settings-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const sharedBuffers = async (handle: Awaited<ReturnType<typeof openDatabase>>) =>
  (await queryRows<{ shared_buffers: string }>(handle.db, sql`show shared_buffers`))[0]?.shared_buffers;

describe('the embedded database settings', () => {
  it('runs with 8 MB of shared buffers, in a data folder and in memory', async () => {
    const onDisk = await openDatabase({ dataDir: dir });
    try {
      expect(await sharedBuffers(onDisk)).toBe('8MB');
    } finally {
      await onDisk.close();
    }
    // Reopened (the setting is applied at every open, not only when the folder is created).
    const again = await openDatabase({ dataDir: dir });
    try {
      expect(await sharedBuffers(again)).toBe('8MB');
    } finally {
      await again.close();
    }
    const inMemory = await openDatabase({ dataDir: dir, inMemory: true });
    try {
      expect(await sharedBuffers(inMemory)).toBe('8MB');
    } finally {
      await inMemory.close();
    }
  }, 120_000);
});
