import { departmentName, type AgentName } from '../agents/index.ts';

export { departmentName };
import { countOf, pick, type Locale } from '../i18n/index.ts';
import { escapeMarkdown } from './markdown.ts';

// What the door itself says (agents write their own answers), in pt-BR and English. Texts
// are Markdown for `sendMarkdown`: values from data go through escapeMarkdown first.

export const t = pick;

/** An unknown person's language from Telegram's language_code; undefined when not given. */
export function telegramLocale(languageCode: string | undefined): Locale | undefined {
  if (!languageCode) return undefined;
  return languageCode.toLowerCase().startsWith('pt') ? 'pt-BR' : 'en';
}

/** The one message an unknown person gets (bilingual when Telegram did not say their language). */
export function unknownPersonText(locale: Locale | undefined): string {
  const pt = 'Olá! Este bot atende apenas a equipe e os clientes da BotCriptoFy. Se você recebeu um código de acesso, envie /start CÓDIGO.';
  const en = 'Hi! This bot only serves BotCriptoFy staff and customers. If you were given an access code, send /start CODE.';
  return locale === 'pt-BR' ? pt : locale === 'en' ? en : `${pt}\n\n${en}`;
}

export function linkFailureText(
  reason: 'invalid' | 'expired' | 'used' | 'inactive' | 'malformed' | 'throttled',
  locale: Locale | undefined,
  retryInMinutes = 15,
): string {
  const l = locale ?? 'pt-BR';
  switch (reason) {
    case 'expired':
      return t(l, 'Este código expirou. Peça um novo a quem o enviou.', 'This code has expired. Ask for a new one.');
    case 'used':
      return t(
        l,
        'Este código já foi usado (ou foi substituído por um mais novo). Peça um novo código.',
        'This code was already used (or replaced by a newer one). Ask for a new code.',
      );
    case 'inactive':
      return t(l, 'Esta conta está desativada.', 'This account is disabled.');
    case 'malformed':
      return t(
        l,
        'Envie o código assim: /start CÓDIGO (12 letras e números).',
        'Send the code like this: /start CODE (12 letters and digits).',
      );
    case 'throttled':
      return t(
        l,
        `Muitas tentativas com códigos errados. Tente de novo em ${countOf(retryInMinutes, 'minute', l)}.`,
        `Too many wrong codes. Try again in ${countOf(retryInMinutes, 'minute', l)}.`,
      );
    default:
      return t(l, 'Código inválido. Confira e envie /start CÓDIGO de novo.', 'Invalid code. Check it and send /start CODE again.');
  }
}

export function staffHelp(
  locale: Locale,
  home: AgentName,
  askable: readonly AgentName[],
  decides: boolean,
  reports: boolean,
  tickets = false,
): string {
  const others = askable
    .filter((a) => a !== home)
    .map((a) => departmentName(a, locale))
    .join(', ');
  const lines =
    locale === 'en'
      ? [
          `**BotCriptoFy** — you talk to the **${departmentName(home, locale)}** agent: just write your question.`,
          '',
          others
            ? `/ask DEPARTMENT question — another department's agent (${others})`
            : '/ask DEPARTMENT question — another department (your role allows only your own)',
          ...(tickets
            ? [
                '/tickets — open tickets with their ids, and Answer, Escalate and Close buttons each',
                '/answer ID text · /escalate ID reason · /close ID note — the same in one line',
              ]
            : []),
          ...(decides ? ['/approvals — pending approvals you decide, with buttons'] : []),
          ...(reports ? ['/report — company KPIs now, with the revenue and MRR chart'] : []),
          '/language — the language I answer in (Português or English)',
          '/unlink — disconnect this Telegram account',
          '/help — this message',
        ]
      : [
          `**BotCriptoFy** — você fala com o agente de **${departmentName(home, locale)}**: é só escrever sua pergunta.`,
          '',
          others
            ? `/ask DEPARTAMENTO pergunta — o agente de outro departamento (${others})`
            : '/ask DEPARTAMENTO pergunta — outro departamento (seu cargo só permite o seu)',
          ...(tickets
            ? [
                '/tickets — tickets abertos com o id e os botões Responder, Escalar e Fechar em cada',
                '/answer ID texto · /escalate ID motivo · /close ID nota — o mesmo numa linha',
              ]
            : []),
          ...(decides ? ['/approvals — aprovações pendentes que você decide, com botões'] : []),
          ...(reports ? ['/report — indicadores da empresa agora, com o gráfico de receita e MRR'] : []),
          '/language — o idioma das respostas (Português ou English)',
          '/unlink — desconectar esta conta do Telegram',
          '/help — esta mensagem',
        ];
  return lines.join('\n');
}

export function traderHelp(locale: Locale): string {
  return (
    locale === 'en'
      ? [
          '**BotCriptoFy** — your bots from Telegram:',
          '/status — open positions',
          '/profit [days] — result of closed trades',
          '/daily [n] · /weekly [n] · /monthly [n] — result per period',
          '/balance — wallet per bot',
          '/bots — your bots, numbered',
          '/startbot N · /stopbot N — start or stop a bot (number from /bots or its id)',
          "/forceexit N [SYMBOL] — close a bot's positions now (asks to confirm); /forceexit alone: pick a position",
          '/trades [n] — the latest closed trades · /performance [days] — profit per pair',
          '/stats [days] — exits by reason, durations, profit factor · /count — open trades against the limit',
          '/whitelist — the pairs your bots trade · /health — last tick of each bot · /version',
          '/notifications — which notices you get (on, silent, off)',
          '/stopentry [N] · /startentry [N] — stop or allow new entries (open positions still exit)',
          '/locks — locked pairs · /lock PAIR DURATION [N] — no entries in a pair for a while · /unlock ID|PAIR',
          '/backtest STRATEGY SYMBOL [TIMEFRAME] [DAYS] — e.g. /backtest rsi BTC/USDT 1h 30',
          '/chart N — the equity chart of bot N · /history N — what was done to bot N, and by whom',
          '/improve N — a walk-forward review of bot N: better parameters proposed only when they won out of sample, applied (and rolled back) only by your button',
          '/plan — your plan and its limits',
          '/language — the language I answer in (Português or English)',
          '/unlink — disconnect this Telegram account',
          'Describe a bot in words (e.g. "I want an RSI bot on BTC 1h with 100 USDT") and I draft it, backtest it and start it on paper when you press the button.',
          'Anything else you write goes to Support.',
        ]
      : [
          '**BotCriptoFy** — seus robôs pelo Telegram:',
          '/status — posições abertas',
          '/profit [dias] — resultado das operações fechadas',
          '/daily [n] · /weekly [n] · /monthly [n] — resultado por período',
          '/balance — carteira de cada robô',
          '/bots — seus robôs, numerados',
          '/startbot N · /stopbot N — liga ou desliga um robô (número do /bots ou o id)',
          '/forceexit N [PAR] — fecha as posições de um robô agora (pede confirmação); só /forceexit: escolha a posição',
          '/trades [n] — as últimas operações fechadas · /performance [dias] — resultado por par',
          '/stats [dias] — saídas por motivo, durações, fator de lucro · /count — operações abertas e o limite',
          '/whitelist — os pares dos seus robôs · /health — último ciclo de cada robô · /version',
          '/notifications — quais avisos você recebe (ligado, sem som, desligado)',
          '/stopentry [N] · /startentry [N] — suspende ou libera novas entradas (as posições abertas continuam saindo)',
          '/locks — pares travados · /lock PAR DURAÇÃO [N] — sem entradas num par por um tempo · /unlock ID|PAR',
          '/backtest ESTRATÉGIA PAR [TIMEFRAME] [DIAS] — ex.: /backtest rsi BTC/USDT 1h 30',
          '/chart N — o gráfico de patrimônio do robô N · /history N — o que foi feito no robô N, e por quem',
          '/improve N — revisão walk-forward do robô N: parâmetros melhores só se ganharam fora da amostra, aplicados (e desfeitos) só com o seu botão',
          '/plan — seu plano e os limites',
          '/language — o idioma das respostas (Português ou English)',
          '/unlink — desconectar esta conta do Telegram',
          'Descreva um robô em palavras (ex.: "quero um robô RSI no BTC de 1h com 100 USDT") e eu monto o rascunho, faço o backtest e inicio no simulado quando você tocar no botão.',
          'O que mais você escrever vai para o SAC.',
        ]
  ).join('\n');
}

export const tooLongText = (length: number, locale: Locale) =>
  t(
    locale,
    `Sua mensagem tem ${length} caracteres; o limite é 4.000. Resuma, por favor.`,
    `Your message has ${length} characters; the limit is 4,000. Please shorten it.`,
  );
export const textOnlyText = (locale: Locale) =>
  t(
    locale,
    'Só leio mensagens de texto e comandos. Envie /help para ver o que posso fazer.',
    'I only read text messages and commands. Send /help to see what I can do.',
  );
export const unknownCommandText = (command: string, locale: Locale) =>
  t(
    locale,
    `Não conheço o comando /${escapeMarkdown(command)}. Envie /help.`,
    `I don't know the command /${escapeMarkdown(command)}. Send /help.`,
  );
export const failureText = (locale: Locale) =>
  t(
    locale,
    'Algo deu errado ao atender seu pedido; já foi registrado. Tente de novo em instantes.',
    'Something went wrong with your request; it has been logged. Please try again shortly.',
  );

/** The "/" menu Telegram shows: traders' commands by default (pt-BR, and English for English apps), staff's in their own chat. */
export function commandMenu(kind: 'trader' | 'staff', locale: Locale, tickets = false): { command: string; description: string }[] {
  const entries: [string, string, string][] =
    kind === 'trader'
      ? [
          ['status', 'posições abertas', 'open positions'],
          ['profit', 'resultado das operações fechadas', 'result of closed trades'],
          ['daily', 'resultado por dia', 'profit per day'],
          ['weekly', 'resultado por semana', 'profit per week'],
          ['monthly', 'resultado por mês', 'profit per month'],
          ['balance', 'carteira de cada robô', 'wallet per bot'],
          ['bots', 'seus robôs, numerados', 'your bots, numbered'],
          ['startbot', 'ligar um robô', 'start a bot'],
          ['stopbot', 'desligar um robô', 'stop a bot'],
          ['forceexit', 'fechar as posições de um robô agora', "close a bot's positions now"],
          ['trades', 'últimas operações fechadas', 'latest closed trades'],
          ['performance', 'resultado por par', 'profit per pair'],
          ['stats', 'estatísticas das operações', 'trade statistics'],
          ['count', 'operações abertas e o limite', 'open trades and the limit'],
          ['whitelist', 'pares operados', 'pairs traded'],
          ['health', 'último ciclo de cada robô', "each bot's last tick"],
          ['notifications', 'quais avisos você recebe', 'which notices you get'],
          ['version', 'versão do BotCriptoFy', 'BotCriptoFy version'],
          ['stopentry', 'suspender novas entradas', 'stop new entries'],
          ['startentry', 'liberar novas entradas', 'allow new entries'],
          ['locks', 'pares travados', 'locked pairs'],
          ['lock', 'travar um par por um tempo', 'lock a pair for a while'],
          ['unlock', 'destravar um par', 'unlock a pair'],
          ['backtest', 'testar uma estratégia no histórico', 'test a strategy on history'],
          ['chart', 'gráfico de patrimônio de um robô', "a bot's equity chart"],
          ['history', 'o que foi feito num robô, e por quem', 'what was done to a bot, and by whom'],
          ['improve', 'revisar um robô e propor parâmetros melhores', 'review a bot and propose better parameters'],
          ['plan', 'seu plano e os limites', 'your plan and its limits'],
          ['language', 'idioma das respostas', 'the language I answer in'],
          ['help', 'o que posso fazer', 'what I can do'],
        ]
      : [
          ['ask', 'perguntar a outro departamento', 'ask another department'],
          ...(tickets ? ([['tickets', 'tickets abertos, para responder', 'open tickets, to answer']] as [string, string, string][]) : []),
          ['approvals', 'aprovações pendentes', 'pending approvals'],
          ['report', 'indicadores da empresa', 'company KPIs'],
          ['language', 'idioma das respostas', 'the language I answer in'],
          ['help', 'o que posso fazer', 'what I can do'],
        ];
  return entries.map(([command, pt, en]) => ({ command, description: pick(locale, pt, en) }));
}
