// A process running one workflow for the crash tests: the parent SIGKILLs it mid-run (while
// the model call of a step hangs), then resumes the run from storage in another process.
import { openDatabase } from '../../db/index.ts';
import { runExecutiveReport } from '../../workflows/index.ts';
import { NOW, workflowRuntime } from './workflow-fixture.ts';

const { DATABASE_URL, DATA_DIR, OLLAMA_HOST, RUN_ID } = process.env;
const handle = await openDatabase({ url: DATABASE_URL, dataDir: DATA_DIR ?? '' });
const runtime = workflowRuntime(handle.db, { ollamaUrl: OLLAMA_HOST!, timeoutMs: 600_000 });
process.stdout.write('started\n');
const report = await runExecutiveReport(runtime.mastra, { period: 'daily', asOf: NOW, send: true, runId: RUN_ID! });
process.stdout.write(`done ${report.delivery.notificationId}\n`);
await handle.close();
