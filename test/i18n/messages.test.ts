import { describe, expect, it } from 'vitest';
import { countOf, parseLanguage, pauseReasonText, readerError, statusWord, venueOf, venueWord } from '../../i18n/index.ts';

// The sentences people read instead of technical reasons, and the counted words.

const TECHNICAL = /NetworkError|ENOTFOUND|https?:\/\/|\bError\b|[A-Z]{2,}_[A-Z_]+|\bat \w+ \(|\.ts:\d+/;

describe('counted nouns', () => {
  it('writes one and many in both languages, 0 as a plural', () => {
    expect(countOf(1, 'bot', 'pt-BR')).toBe('1 robô');
    expect(countOf(2, 'bot', 'pt-BR')).toBe('2 robôs');
    expect(countOf(0, 'bot', 'pt-BR')).toBe('0 robôs');
    expect(countOf(1, 'winningTrade', 'en')).toBe('1 winner');
    expect(countOf(3, 'winningTrade', 'en')).toBe('3 winners');
    expect(countOf(1, 'position', 'pt-BR')).toBe('1 posição');
    expect(countOf(1200, 'trade', 'pt-BR')).toBe('1.200 operações');
    expect(countOf(1200, 'trade', 'en')).toBe('1,200 trades');
  });

  it('translates status words and shows an unknown one readably', () => {
    expect(statusWord('paused', 'pt-BR')).toBe('pausado');
    expect(statusWord('escalated', 'pt-BR')).toBe('escalado');
    expect(statusWord('active', 'pt-BR')).toBe('ativa');
    expect(statusWord('past_due', 'en')).toBe('payment overdue');
    expect(statusWord('some_new_state', 'en')).toBe('some new state');
  });

  it('says where a bot trades as it is', () => {
    expect(venueWord(venueOf('paper', 'live'), 'en')).toBe('paper');
    expect(venueOf('live', undefined)).toBe('testnet');
    expect(venueOf('live', 'paper')).toBe('testnet');
    expect(venueOf('live', 'live')).toBe('live');
    expect(venueWord('testnet', 'pt-BR')).toMatch(/testnet/);
  });

  it('reads a language however it is typed', () => {
    expect(parseLanguage('English')).toBe('en');
    expect(parseLanguage(' português ')).toBe('pt-BR');
    expect(parseLanguage('pt-br')).toBe('pt-BR');
    expect(parseLanguage('fr')).toBeUndefined();
  });
});

describe('failures as sentences for the reader', () => {
  const exchangeDown =
    'the exchange did not answer (binance: NetworkError: binance GET https://testnet.binance.vision/api/v3/account getaddrinfo ENOTFOUN';

  it('never carries the technical reason', () => {
    const failures = [
      { error: 'failed', message: exchangeDown },
      {
        error: 'failed',
        category: 'unavailable',
        message: 'binance: NetworkError: binance GET https://testnet.binance.vision fetch failed',
      },
      { error: 'not_found', message: 'Not enough 1h candles of BTC/USDT to backtest (have 0).' },
      { error: 'failed', category: 'config', message: 'Stripe is not configured: set STRIPE_SECRET_KEY to refund payments.' },
      { error: 'failed', message: 'TypeError: Cannot read properties of undefined (reading x)\n    at run (/app/tools/x.ts:12:3)' },
      { error: 'forbidden', message: 'Not allowed: trader may not call company_kpis.' },
    ];
    for (const failure of failures)
      for (const locale of ['pt-BR', 'en'] as const) {
        const sentence = readerError(failure, locale);
        expect(sentence).not.toMatch(TECHNICAL);
        expect(sentence.length).toBeGreaterThan(10);
      }
  });

  it("tells the exchange being down, too few candles and a plan limit apart, in the reader's language", () => {
    expect(readerError({ message: exchangeDown }, 'pt-BR')).toBe('A corretora não respondeu agora; tente de novo em 1 minuto.');
    expect(readerError({ message: 'Not enough 1h candles of BTC/USDT to backtest (have 0).' }, 'pt-BR')).toBe(
      'Ainda não há candles de 1h de BTC/USDT para este backtest. Tente outro par, outro timeframe ou menos dias.',
    );
    expect(readerError({ message: 'Not enough 4h candles of ETH/USDT to backtest (have 1).' }, 'en')).toMatch(
      /^There are only 1 candle of 4h/,
    );
    expect(
      readerError(
        { category: 'conflict', message: 'The Free plan allows 1 running bot(s) and 1 already run; upgrade to Pro for more.' },
        'pt-BR',
      ),
    ).toBe('O plano Free permite 1 robô ligado ao mesmo tempo, e já há 1 rodando. Pare um com /stopbot N ou mude para o Pro. Veja /plan.');
    expect(readerError({ category: 'config', message: 'set STRIPE_SECRET_KEY first' }, 'en')).toBe(
      'This feature is not set up on our side yet; the team has been told.',
    );
  });

  it('explains a pause with what to do', () => {
    expect(pauseReasonText(`exchange failure: ${exchangeDown}`, 'pt-BR')).toMatch(/^A corretora não respondeu.*\/startbot/);
    expect(pauseReasonText('risk limit: daily loss 5.2% over 5%', 'en')).toMatch(/^The risk controls paused the bot/);
    expect(pauseReasonText('exchange rejected the entry in BTC/USDT: InsufficientFunds: balance', 'pt-BR')).toMatch(
      /^A corretora recusou a entrada em BTC\/USDT/,
    );
    for (const locale of ['pt-BR', 'en'] as const)
      expect(pauseReasonText(`exchange failure: ${exchangeDown}`, locale)).not.toMatch(TECHNICAL);
  });
});
