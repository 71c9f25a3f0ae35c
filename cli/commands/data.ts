import { verifyAuditChain } from '../../audit/index.ts';
import { listStaff } from '../../db/index.ts';
import { demoHeadSignIns, demoSignIns, importDemoCandles, seedDemoCompany } from '../../demo/index.ts';
import { withRuntime } from '../open-runtime.ts';
import { printTable } from '../table.ts';
import { UsageError } from '../../errors/index.ts';

export async function migrateCommand(): Promise<void> {
  await withRuntime(async ({ database, migrations }) => {
    console.log(
      `Migrations on ${database.location}: ${migrations.applied} of ${migrations.expected} applied` +
        (migrations.latest ? ` (latest ${migrations.latest})` : ''),
    );
  });
}

export async function seedCommand(options: { demo?: boolean; seed?: number; asOf?: Date; traders?: number }): Promise<void> {
  if (!options.demo) throw new UsageError('Nothing to seed: pass --demo to create the demo company.');
  await withRuntime(async ({ database, secretBox }) => {
    const counts = await seedDemoCompany(database.db, {
      secretBox,
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      ...(options.traders !== undefined ? { traders: options.traders } : {}),
      ...(options.asOf ? { asOf: options.asOf } : {}),
    });
    console.log(
      `Demo company seeded on ${database.location}: ${counts.staff} staff, ${counts.customers} traders, ` +
        `${counts.subscriptions} subscriptions, ${counts.invoices} invoices, ${counts.bots} bots, ${counts.trades} trades, ` +
        `${counts.supportTickets} tickets, ${counts.leads} leads.`,
    );
    // The candle cache: the bundled BTC/USDT files on the wall clock, so charts and backtests work offline (demo/candles.ts).
    const candles = await importDemoCandles(database.db);
    console.log(
      `Candle cache: BTC/USDT ${candles.map((c) => `${c.timeframe} ${c.bars.toLocaleString('en')} bars`).join(', ')} (the bundled Binance files, replayed up to now).`,
    );
    // The demo's sign-ins (the web dashboard's form, or POST /api/v1/auth/sign-in/email): fixed, demo-only passwords.
    const signIns = await demoSignIns(database.db);
    if (signIns.length > 0) {
      console.log(
        'Demo sign-ins: sign in to the web dashboard (the URL `start` prints) with one; the HTTP API takes the same (demo passwords, never for real accounts):',
      );
      for (const person of signIns) console.log(`  ${person.who.padEnd(6)}  ${person.email}  ${person.password}`);
    }
    // The department heads, who decide their department's approvals (a refund: the finance head).
    const heads = await demoHeadSignIns(database.db);
    if (heads.length > 0) {
      console.log("Department heads (each decides their department's approvals; a second factor first):");
      for (const head of heads) console.log(`  ${head.department.padEnd(13)}  ${head.email}  ${head.password}`);
    }
  });
}

export async function staffListCommand(options: { json?: boolean }): Promise<void> {
  await withRuntime(async ({ database }) => {
    const members = await listStaff(database.db);
    if (options.json) {
      console.log(JSON.stringify(members.map(({ name, email, department, role, title }) => ({ name, email, department, role, title }))));
      return;
    }
    if (members.length === 0) {
      console.log('No staff yet. Run `botcriptofy seed --demo` for the demo company.');
      return;
    }
    const rows = members.map((m) => [m.name, m.email, m.department, m.role]);
    printTable(['NAME', 'EMAIL', 'DEPARTMENT', 'ROLE'], rows);
  });
}

export async function auditVerifyCommand(options: { json?: boolean }): Promise<void> {
  await withRuntime(async ({ database }) => {
    const result = await verifyAuditChain(database.db);
    if (options.json) console.log(JSON.stringify(result));
    else if (result.ok) {
      console.log(
        `Audit chain OK: ${result.rowsChecked} rows verified${result.lastId ? `, last row ${result.lastId}` : ''}, head ${result.lastHash}`,
      );
    } else {
      console.log(`Audit chain BROKEN at row ${result.badRowId}: ${result.message} (${result.rowsChecked} rows before it are intact)`);
    }
    if (!result.ok) process.exitCode = 1;
  });
}

/** Wrong use of a command: printed with the command's help hint, exit code 2. */
