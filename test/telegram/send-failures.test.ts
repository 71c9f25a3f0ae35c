import { TelegramError } from 'telegraf';
import { describe, expect, it } from 'vitest';
import { classifyTelegramError } from '../../telegram/outbox/index.ts';

// Which failed sends may still have reached the person: only those are counted as possible
// duplicates when retried (telegram_outbox_maybe_delivered_total).
describe('classifying a failed Telegram send', () => {
  const network = (fields: Record<string, string>) => Object.assign(new Error('request failed'), fields);

  it('a timeout or a connection cut mid-request may have been delivered; a refused connection or an answer cannot', () => {
    expect(classifyTelegramError(network({ name: 'AbortError' }))).toMatchObject({ kind: 'transient', outage: true, maybeDelivered: true });
    expect(classifyTelegramError(network({ code: 'ECONNRESET' }))).toMatchObject({ kind: 'transient', maybeDelivered: true });
    expect(classifyTelegramError(network({ code: 'ETIMEDOUT' }))).toMatchObject({ kind: 'transient', maybeDelivered: true });
    for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH'])
      expect(classifyTelegramError(network({ code })), code).toMatchObject({ kind: 'transient', outage: true, maybeDelivered: false });
    expect(classifyTelegramError(new TelegramError({ error_code: 502, description: 'Bad Gateway' }))).toMatchObject({
      kind: 'transient',
      outage: true,
      maybeDelivered: false,
    });
    expect(
      classifyTelegramError(new TelegramError({ error_code: 403, description: 'Forbidden: bot was blocked by the user' })),
    ).toMatchObject({ kind: 'permanent', code: 403 });
    expect(
      classifyTelegramError(new TelegramError({ error_code: 429, description: 'Too Many Requests', parameters: { retry_after: 3 } })),
    ).toMatchObject({ kind: 'rate_limited', retryAfterS: 3 });
  });
});
