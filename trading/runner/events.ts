/** What a bot reports as it trades; notifications (Telegram) subscribe to these. */
export type BotEvent =
  | {
      readonly type: 'trade_opened';
      readonly botId: string;
      readonly tenantId: string;
      readonly symbol: string;
      readonly amountBase: number;
      readonly priceQuote: number;
    }
  | {
      readonly type: 'trade_closed';
      readonly botId: string;
      readonly tenantId: string;
      readonly symbol: string;
      readonly amountBase: number;
      readonly priceQuote: number;
      readonly profitQuote: number;
      readonly reason: 'signal' | 'stop_loss' | 'take_profit' | 'forced';
    }
  | {
      readonly type: 'risk_refusal';
      readonly botId: string;
      readonly tenantId: string;
      readonly symbol: string;
      readonly rule: string;
      readonly reason: string;
    }
  | { readonly type: 'bot_paused'; readonly botId: string; readonly tenantId: string; readonly reason: string };
