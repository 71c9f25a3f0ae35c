// The templates' text helpers. A notification's text is the small HTML subset every channel
// can show (Telegram's parse mode, a web page, an e-mail), so text put into it is escaped
// here; figures (money, decimals, dates) are written by i18n/.

/** `BTC/USDT` → { base: 'BTC', quote: 'USDT' }. */
export function splitPair(symbol: string): { base: string; quote: string } {
  const [base = symbol, quote = ''] = symbol.split('/');
  return { base, quote };
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
