export {
  ExchangeRejectedError,
  ExchangeUnavailableError,
  splitSymbol,
  type Exchange,
  type ExchangeOrder,
  type ExchangeOrderRequest,
  type MarketDataSource,
  type OrderSide,
} from './types.ts';
export { PaperExchange, type PaperExchangeOptions } from './paper.ts';
export { ReplayMarketData } from './replay-source.ts';
export { CcxtExchange, type CcxtExchangeOptions } from './ccxt-exchange.ts';
export { exchangeForBot, type ExchangeForBotOptions } from './for-bot.ts';
export {
  BundledReplayMarket,
  REPLAY_CACHE_BACKFILL_BARS,
  REPLAY_CACHE_EXCHANGE,
  replayedBar,
  replayedPrice,
  type ReplayedBar,
} from './bundled-replay.ts';
export {
  createPaperMarkets,
  paperMarketOptions,
  type PaperMarkets,
  type PaperMarketSetting,
  type PaperMarketSource,
} from './paper-markets.ts';
export {
  feedHealthAt,
  feedLeaseKey,
  LocalFeedLeases,
  MarketFeeds,
  readMarketFeedHealth,
  type FeedHealth,
  type FeedLeases,
  type FeedSource,
  type FeedStaleEvent,
  type MarketFeedsOptions,
} from './market-feed.ts';
