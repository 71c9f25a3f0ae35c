import { foldText, pick, type Locale } from '../i18n/index.ts';
import type { ReplyKeyboard } from './send.ts';

// A trader's reply keyboard (freqtrade's): their everyday commands as buttons in place of the
// phone's keyboard, labelled in their language. A press sends the label as a message; the door
// reads a label (of either language, so a keyboard left from before a language change still
// works) as the command it stands for.

const BUTTONS: readonly (readonly [command: string, pt: string, en: string])[] = [
  ['status', '📊 Posições', '📊 Positions'],
  ['profit', '💰 Lucro', '💰 Profit'],
  ['balance', '👛 Carteira', '👛 Balance'],
  ['bots', '🤖 Robôs', '🤖 Bots'],
  ['daily', '📅 Diário', '📅 Daily'],
  ['trades', '🧾 Operações', '🧾 Trades'],
  ['locks', '🔒 Travas', '🔒 Locks'],
  ['plan', '📦 Plano', '📦 Plan'],
  ['help', '❓ Ajuda', '❓ Help'],
];

const ROW = 3;

/** The keyboard in the trader's language: three rows of three. */
export function traderKeyboard(locale: Locale): ReplyKeyboard {
  const keyboard: { text: string }[][] = [];
  for (let i = 0; i < BUTTONS.length; i += ROW)
    keyboard.push(BUTTONS.slice(i, i + ROW).map(([, pt, en]) => ({ text: pick(locale, pt, en) })));
  return {
    keyboard,
    resize_keyboard: true,
    is_persistent: true,
    input_field_placeholder: pick(locale, 'Um comando ou sua pergunta', 'A command or your question'),
  };
}

const byLabel = new Map(BUTTONS.flatMap(([command, pt, en]) => [pt, en].map((label) => [foldText(label).trim(), command] as const)));

/** The command a keyboard button's text stands for (`/status`), or undefined for any other text. */
export function keyboardCommand(text: string): string | undefined {
  const command = byLabel.get(foldText(text).trim());
  return command ? `/${command}` : undefined;
}
