import type { TelegramEmulator } from './telegram-emulator.ts';

// A person on the emulator's client side: sends text, commands and button presses as a real
// Telegram client would, and reads what the bot sent to their chat (edits included, since the
// emulator edits its stored message in place).

export interface BotMessage {
  readonly messageId: number;
  /** As sent (HTML); `plain` without the tags. */
  readonly text: string;
  readonly plain: string;
  readonly buttons: { text: string; callback_data: string }[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function plainText(html: string): string {
  return html
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}

export class TelegramChat {
  readonly emulator: TelegramEmulator;
  readonly userId: number;
  readonly chatId: number;
  readonly type: 'private' | 'group' | 'supergroup';
  private readonly client;
  private seen = 0;

  constructor(
    emulator: TelegramEmulator,
    options: { userId: number; chatId?: number; type?: 'private' | 'group' | 'supergroup'; firstName?: string; userName?: string },
  ) {
    this.emulator = emulator;
    this.userId = options.userId;
    this.chatId = options.chatId ?? options.userId;
    this.type = options.type ?? 'private';
    this.client = emulator.server.getClient(emulator.token, {
      userId: this.userId,
      chatId: this.chatId,
      type: this.type,
      firstName: options.firstName ?? `User${this.userId}`,
      userName: options.userName ?? `user${this.userId}`,
      timeout: 10_000,
    });
  }

  /** Text, sent as a command (with its bot_command entity) when it starts with "/". */
  async send(text: string, extra: Record<string, unknown> = {}): Promise<void> {
    if (/^\/\w/.test(text)) await this.client.sendCommand(this.client.makeCommand(text, extra));
    else await this.client.sendMessage(this.client.makeMessage(text, extra));
  }

  /** A message without text (a sticker, a photo): `fields` replaces the text. */
  async sendNonText(fields: Record<string, unknown>): Promise<void> {
    const message = this.client.makeMessage('') as Record<string, unknown>;
    delete message.text;
    await this.client.sendMessage({ ...message, ...fields } as never);
  }

  /** Presses an inline button of one of the bot's messages in this chat. */
  async press(data: string, messageId: number): Promise<void> {
    await this.client.sendCallback(
      this.client.makeCallbackQuery(data, { message: { message_id: messageId, chat: { id: this.chatId, type: this.type } } } as never),
    );
  }

  /** Every message the bot sent to this chat, in order, as it stands now. */
  all(): BotMessage[] {
    return this.emulator.server.storage.botMessages
      .filter((update) => update.botToken === this.emulator.token && String(update.message.chat_id) === String(this.chatId))
      .map((update) => {
        const message = update.message as unknown as {
          text?: string;
          reply_markup?: { inline_keyboard?: { text: string; callback_data: string }[][] };
        };
        const text = String(message.text ?? '');
        return { messageId: update.messageId, text, plain: plainText(text), buttons: message.reply_markup?.inline_keyboard?.flat() ?? [] };
      });
  }

  /** Waits for `count` new messages (since the last call) and returns them. */
  async replies(count = 1, timeoutMs = 15_000): Promise<BotMessage[]> {
    const started = Date.now();
    for (;;) {
      const all = this.all();
      if (all.length - this.seen >= count) {
        const fresh = all.slice(this.seen, this.seen + count);
        this.seen += count;
        return fresh;
      }
      if (Date.now() - started > timeoutMs)
        throw new Error(
          `chat ${this.chatId}: expected ${count} new message(s), got ${all.length - this.seen}: ${JSON.stringify(all.slice(this.seen).map((m) => m.plain.slice(0, 200)))}`,
        );
      await sleep(15);
    }
  }

  async reply(timeoutMs?: number): Promise<BotMessage> {
    return (await this.replies(1, timeoutMs))[0]!;
  }

  /** Messages that arrived since the last read, without waiting. */
  fresh(): BotMessage[] {
    const all = this.all();
    const out = all.slice(this.seen);
    this.seen = all.length;
    return out;
  }

  /** Reads and discards whatever arrived. */
  skip(): void {
    this.seen = this.all().length;
  }
}
