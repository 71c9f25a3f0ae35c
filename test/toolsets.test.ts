import { describe, expect, it } from 'vitest';
import { AGENT_TOOLSETS } from '../agents/index.ts';
import { departments } from '../db/index.ts';
import { TOOLS, TOOL_POLICY } from '../tools/index.ts';

describe("each agent's tool set", () => {
  it('gives every agent 4–8 real tools, each one its department may call', () => {
    for (const agent of departments) {
      const tools = AGENT_TOOLSETS[agent];
      expect(tools.length, agent).toBeGreaterThanOrEqual(4);
      expect(tools.length, agent).toBeLessThanOrEqual(8);
      expect(new Set(tools).size, agent).toBe(tools.length);
      for (const tool of tools) {
        expect(TOOLS.has(tool), `${agent}: ${tool}`).toBe(true);
        if (agent !== 'ceo') expect(TOOL_POLICY[tool]!.departments, `${agent}: ${tool}`).toContain(agent);
      }
    }
  });

  it('leaves the CEO room for its delegation tool (7 at most with it)', () => {
    expect(AGENT_TOOLSETS.ceo).toContain('company_kpis');
    expect(AGENT_TOOLSETS.ceo.length).toBeLessThanOrEqual(6);
  });

  it('puts every catalogue tool in some staff agent set, except those only traders need', () => {
    const used = new Set<string>(Object.values(AGENT_TOOLSETS).flat());
    const unused = [...TOOLS.keys()].filter((tool) => !used.has(tool));
    // Traders start bots, run backtests, open tickets, read their wallets and periods, and
    // force exits themselves (Telegram and the API), and get their own Checkout and portal links and backtest their own CSV candles (the API). Operators list, inspect and create bots
    // with `botcriptofy bots` (list_bots, bot_details, create_bot), not through an agent; the API lists a bot's trades and queues and reads backtests, and charts candles; operators read the deployment's status (system_status) through the API's GET /status.
    // Telegram's freqtrade commands read a trader's own trades, pairs, stats and health (recent_trades, pair_performance, trade_stats, trading_health), and everyone sets their own notifications (notification_settings, set_notification_setting); Support closes tickets from Telegram's /tickets (close_ticket); traders hold their bots' entries with /stopentry (stop_entries) and lock pairs with /lock, /locks and /unlock (lock_pair, list_pair_locks, unlock_pair).
    // The trader's assistant's draft tools, a bot's history (issue 22, /history) and its walk-forward review, apply and rollback are traders' only: no staff agent holds them.
    // Everyone answers the terms and marketing texts for themselves at a door (consent_status, record_consent: GET/POST /api/v1/consents)
    // and reads them in full there (consent_document: GET /api/v1/documents/{slug}).
    // The revenue/MRR chart's series (revenue_months) is drawn by the dashboard's executive report (GET /api/v1/reports/executive).
    // An export an approval stored for its requester is fetched at a door (privacy_export_document: `privacy export --approval`, GET /api/v1/privacy/exports/{id}).
    expect(unused.sort()).toEqual([
      'apply_bot_improvement',
      'backtest_draft',
      'backtest_result',
      'billing_portal_link',
      'bot_balances',
      'bot_details',
      'bot_draft',
      'bot_history',
      'change_bot_draft',
      'checkout_link',
      'close_ticket',
      'consent_document',
      'consent_status',
      'create_bot',
      'discard_draft',
      'draft_bot_from_text',
      'force_exit',
      'list_bot_trades',
      'list_bots',
      'list_pair_locks',
      'lock_pair',
      'market_candles',
      'notification_settings',
      'open_ticket',
      'pair_performance',
      'pnl_by_period',
      'privacy_export_document',
      'propose_bot_improvement',
      'recent_trades',
      'record_consent',
      'revenue_months',
      'rollback_bot_version',
      'run_backtest',
      'set_notification_setting',
      'start_bot',
      'start_draft_on_paper',
      'stop_entries',
      'submit_backtest',
      'submit_backtest_csv',
      'system_status',
      'trade_stats',
      'trading_health',
      'unlock_pair',
    ]);
  });
});
