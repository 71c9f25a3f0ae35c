import crypto from 'node:crypto';
import { eq } from 'drizzle-orm';
import { backtestUploads, type Database, type TenantScope } from '../../db/index.ts';
import type { CandleSeries } from '../market-data/candles.ts';
import { parseCandleCsv } from '../market-data/load.ts';

// Candles a trader uploads for one backtest (POST /backtests with a CSV file): stored beside the
// backtest in its tenant, in the queuing transaction, and read back only by that backtest's job.
// They never enter the shared candle cache, so nobody else can chart or backtest on them.

/** Stores the CSV of backtest `backtestId` (call in the transaction that queued it). */
export async function storeBacktestUpload(
  db: Database,
  scope: TenantScope,
  backtestId: string,
  upload: { csv: string; fileName?: string | undefined; candles: number },
): Promise<{ sha256: string; sizeBytes: number }> {
  const bytes = Buffer.from(upload.csv, 'utf8');
  const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
  await db.insert(backtestUploads).values({
    backtestId,
    tenantId: scope.tenantId,
    fileName: upload.fileName ?? null,
    candles: upload.candles,
    sizeBytes: bytes.length,
    sha256,
    csv: upload.csv,
  });
  return { sha256, sizeBytes: bytes.length };
}

/** The uploaded candles a backtest runs on, or undefined when it runs on the candle cache. */
export async function loadBacktestUpload(db: Database, backtestId: string): Promise<CandleSeries | undefined> {
  const [row] = await db
    .select({ csv: backtestUploads.csv, fileName: backtestUploads.fileName })
    .from(backtestUploads)
    .where(eq(backtestUploads.backtestId, backtestId));
  return row ? parseCandleCsv(row.csv, row.fileName ?? 'the uploaded CSV') : undefined;
}
