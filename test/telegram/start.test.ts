import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runCliHere, startCli } from '../support/cli.ts';
import { TelegramChat } from '../support/telegram-chat.ts';
import { startTelegramEmulator, type TelegramEmulator } from '../support/telegram-emulator.ts';

// `botcriptofy start` as a real process: the door off without a token (one line), on with one
// (long polling against the emulator, linking through a code from `staff invite`), webhook
// mode refused without its secret, and a graceful stop.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RECORD_MODULES = fileURLToPath(new URL('../support/record-modules.ts', import.meta.url));

describe('botcriptofy start and the Telegram door', () => {
  let dataDir: string;
  let emulator: TelegramEmulator;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-telegram-'));
    const seeded = await runCli(['seed', '--demo', '--traders', '3'], { DATA_DIR: dataDir });
    expect(seeded.code, seeded.stderr).toBe(0);
    emulator = await startTelegramEmulator();
  }, 120_000);

  afterAll(async () => {
    await emulator?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('says in one line that the door is off without TELEGRAM_BOT_TOKEN, and loads none of its code (nor BullMQ without Redis)', async () => {
    // Every module the process resolves, written when it exits (test/support/record-modules.ts).
    const record = path.join(dataDir, 'modules.txt');
    const server = await startCli(
      ['start'],
      { DATA_DIR: dataDir, PORT: '0', NODE_OPTIONS: `--import=${RECORD_MODULES}`, RECORD_MODULES_FILE: record },
      (line) => line.includes('BotCriptoFy is up'),
    );
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    const modules = fs.readFileSync(record, 'utf8').split('\n').filter(Boolean);
    // The recording saw the server start (an empty list is no pass)...
    expect(modules.some((url) => url.endsWith('/server/app.ts'))).toBe(true);
    // ...and not Telegraf, the chart renderer's native module or the door's own files, nor BullMQ
    // (no REDIS_URL: the in-process job runner).
    const unused = modules.filter((url) => {
      if (!url.startsWith('file://')) return false;
      const relative = path.relative(ROOT, fileURLToPath(url)).replace(/\\/g, '/');
      return /^node_modules\/(telegraf|@resvg|bullmq)\//.test(relative) || relative.startsWith('telegram/');
    });
    expect(unused).toEqual([]);
    fs.rmSync(record);
    const lines = server
      .output()
      .split('\n')
      .filter((line) => line.includes('Telegram'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('TELEGRAM_BOT_TOKEN is not set: the Telegram door is off');
  });

  it('refuses webhook mode without its secret', async () => {
    const result = await runCli(['start'], {
      DATA_DIR: dataDir,
      PORT: '0',
      TELEGRAM_BOT_TOKEN: emulator.token,
      TELEGRAM_WEBHOOK_URL: 'https://bot.example.com/telegram/webhook',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/TELEGRAM_WEBHOOK_SECRET=\(unset\): required when TELEGRAM_WEBHOOK_URL is set/);
    expect(result.stderr + result.stdout).not.toContain(emulator.token);
  });

  it('links a staff member invited on the CLI, answers, and stops cleanly', async () => {
    const staff = await runCliHere(['staff', 'list', '--json'], { DATA_DIR: dataDir });
    const member = (JSON.parse(staff.stdout) as { email: string; department: string; role: string }[]).find((s) => s.role === 'ceo')!;
    const invite = await runCliHere(['staff', 'invite', '--email', member.email, '--json'], { DATA_DIR: dataDir });
    expect(invite.code, invite.stderr).toBe(0);
    const { code, instruction } = JSON.parse(invite.stdout) as { code: string; instruction: string };
    expect(instruction).toBe(`/start ${code}`);

    const server = await startCli(
      ['start'],
      {
        DATA_DIR: dataDir,
        PORT: '0',
        TELEGRAM_BOT_TOKEN: emulator.token,
        TELEGRAM_API_ROOT: emulator.apiRoot,
        OLLAMA_HOST: 'http://127.0.0.1:9',
      },
      (line) => line.includes('Telegram door open'),
    );
    const chat = new TelegramChat(emulator, { userId: 4242 });
    await chat.send(instruction);
    const [linked] = await chat.replies(2, 20_000);
    expect(linked!.plain).toMatch(/Conectado como|Linked as/);
    await chat.send('/report');
    expect((await chat.reply(20_000)).plain).toMatch(/MRR/);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.output()).toContain('stopped cleanly');
    expect(server.output()).not.toContain(emulator.token);
  });
});
