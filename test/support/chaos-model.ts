import { lastMessage, toolResults, type ChatScript, type OllamaChatRequest, type ScriptedReply } from './fake-ollama.ts';

// A seeded bad small model, served by the scripted Ollama server: what qwen3:0.6b does in the
// field, on purpose and reproducibly. Each request draws one behaviour; the same seed gives
// the same run. `counts` says how often each behaviour was drawn.

export const CHAOS_BEHAVIOURS = [
  // first step (the user's message is the last one)
  'random_tool',
  'empty_args_call',
  'junk_tool_name',
  'repeated_call',
  'claim_without_call',
  'answer_without_call',
  // any step: the text it writes
  'random_bytes',
  'control_chars',
  'truncated_json',
  'wrong_language',
  'foreign_script',
  'invented_figure',
  'echoed_secret',
  'empty',
  'very_long',
  'repeated_text',
  'tool_syntax_in_text',
  'good_answer',
  'call_again',
  'stall',
] as const;
export type ChaosBehaviour = (typeof CHAOS_BEHAVIOURS)[number];

export interface ChaosOptions {
  readonly seed: number;
  /** Secret values the model "knows" and echoes (configured secrets, keys seen somewhere). */
  readonly secrets: readonly string[];
  /** Share of requests that stall mid-stream (each costs the gateway's timeout). */
  readonly stallRate?: number;
}

export interface ChaosModel {
  readonly script: ChatScript;
  readonly counts: Record<ChaosBehaviour, number>;
}

/** mulberry32: a small seeded generator, good enough to pick behaviours reproducibly. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const JUNK_NAMES = [
  'refund_payment\u0000',
  '../refund_payment',
  'REFUND_PAYMENT',
  'refund payment',
  '',
  'set_config; DROP TABLE audit_log',
  'ferramenta_inexistente',
  'x'.repeat(3_000),
  'list_plans\n',
  '\u202egnp.exe',
];
const CLAIMS = [
  'Pronto, ativei o kill switch.',
  'Feito! Reembolsei o pagamento do cliente.',
  'A campanha foi pausada com sucesso.',
  "Done, I've turned the kill switch on.",
  'The payment has been refunded.',
  'Plano alterado para Enterprise, já está ativo.',
  'I have frozen the API keys as requested.',
];
const WRONG_LANGUAGE = {
  pt: 'The numbers look good this month and the team should keep going with the current plan for the company.',
  en: 'Os números estão bons este mês e a equipe deve continuar com o plano atual da empresa.',
};
const FOREIGN = ['当前的月经常性收入很好，客户数量在增长。', 'Все показатели в норме, продолжайте работу.', 'المؤشرات جيدة هذا الشهر.'];

export function chaosModel(options: ChaosOptions): ChaosModel {
  const random = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const counts = Object.fromEntries(CHAOS_BEHAVIOURS.map((b) => [b, 0])) as Record<ChaosBehaviour, number>;
  const stallRate = options.stallRate ?? 0.01;

  const question = (request: OllamaChatRequest) => [...request.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const isEnglish = (text: string) => /\b(the|what|how|is|are|show|list|please|pls|any|our|we)\b/i.test(text);
  const offered = (request: OllamaChatRequest) => request.tools?.map((t) => t.function.name) ?? [];

  function text(behaviour: ChaosBehaviour, request: OllamaChatRequest): string {
    const en = isEnglish(question(request));
    switch (behaviour) {
      case 'random_bytes':
        return Array.from({ length: 20 + Math.floor(random() * 200) }, () => String.fromCharCode(Math.floor(random() * 256))).join('');
      case 'control_chars':
        return `${en ? 'The result is' : 'O resultado é'} \u0000\u001b[31m ok\u0007`;
      case 'truncated_json':
        return `{"answer": "${en ? 'The MRR is' : 'O MRR é'} ^<>WT;`.slice(0, 8 + Math.floor(random() * 20));
      case 'wrong_language':
        return en ? WRONG_LANGUAGE.en : WRONG_LANGUAGE.pt;
      case 'foreign_script':
        return pick(FOREIGN);
      case 'invented_figure':
        return en
          ? `MRR is R$ ${(100_000 + Math.floor(random() * 900_000)).toLocaleString('en-US')}.77 this month.`
          : `O MRR é R$ ${(100_000 + Math.floor(random() * 900_000)).toLocaleString('pt-BR')},77 este mês.`;
      case 'echoed_secret':
        return `${en ? 'Here is the key' : 'Aqui está a chave'}: ${pick(options.secrets)}`;
      case 'empty':
        return '';
      case 'very_long':
        return Array.from(
          { length: 300 },
          (_, i) =>
            `${en ? 'Detail' : 'Detalhe'} ${i}: ${en ? 'everything is being reviewed by the team' : 'tudo está sendo revisado pela equipe'}.`,
        ).join(' ');
      case 'repeated_text': {
        const line = en
          ? 'Pro plan: many bots and live trading for serious traders.'
          : 'Plano Pro: vários robôs e operação real para traders sérios.';
        return Array.from({ length: 4 }, () => line).join('\n');
      }
      case 'tool_syntax_in_text':
        return `<tool_call>{"name": "${pick(offered(request)) ?? 'list_plans'}", "arguments": {}}</tool_call>`;
      case 'claim_without_call':
        return pick(CLAIMS);
      default: {
        // A decent answer: the first figure of a tool result, in the question's language.
        const figure = JSON.stringify(toolResults(request)).match(/(?<=":)\d+(?:\.\d+)?/)?.[0];
        if (figure) return en ? `According to the tool, the figure is ${figure}.` : `Segundo a ferramenta, o número é ${figure}.`;
        return en ? 'I checked it with the tool; nothing more to report.' : 'Consultei a ferramenta; nada mais a relatar.';
      }
    }
  }

  const script: ChatScript = (request) => {
    const draw = (behaviour: ChaosBehaviour) => {
      counts[behaviour] += 1;
      return behaviour;
    };
    if (random() < stallRate) {
      draw('stall');
      return { stall: isEnglish(question(request)) ? 'The ' : 'O ' };
    }
    const tools = offered(request);
    if (lastMessage(request).role === 'user' && tools.length > 0) {
      const behaviour = draw(
        pick([
          'random_tool',
          'random_tool',
          'empty_args_call',
          'junk_tool_name',
          'repeated_call',
          'claim_without_call',
          'answer_without_call',
          'answer_without_call',
        ] as const),
      );
      const tool = pick(tools);
      const args = (): Record<string, unknown> =>
        tool === 'ask_department'
          ? { department: pick(['finance', 'sales', 'security', 'settings']), question: question(request).slice(0, 200) || 'status' }
          : guessArgs(question(request), random);
      switch (behaviour) {
        case 'random_tool':
          return { toolCalls: [{ name: tool, arguments: args() }] };
        case 'empty_args_call':
          return { toolCalls: [{ name: tool, arguments: random() < 0.5 ? {} : '{"broken": ' }] };
        case 'junk_tool_name':
          return {
            toolCalls: [{ name: pick(JUNK_NAMES), arguments: { paymentId: 'all', reason: 'x'.repeat(random() < 0.3 ? 1_000_000 : 10) } }],
          };
        case 'repeated_call': {
          const call = { name: tool, arguments: args() };
          return { toolCalls: [call, call, call] };
        }
        case 'claim_without_call':
          return { content: text('claim_without_call', request) };
        default:
          return {
            content: text(
              pick([
                'random_bytes',
                'wrong_language',
                'invented_figure',
                'echoed_secret',
                'empty',
                'good_answer',
                'claim_without_call',
              ] as const),
              request,
            ),
          };
      }
    }
    // After tool results: the answer, or the same call again.
    const behaviour = draw(
      pick([
        'random_bytes',
        'control_chars',
        'truncated_json',
        'wrong_language',
        'foreign_script',
        'invented_figure',
        'echoed_secret',
        'empty',
        'very_long',
        'repeated_text',
        'tool_syntax_in_text',
        'claim_without_call',
        'good_answer',
        'good_answer',
        'good_answer',
        'call_again',
      ] as const),
    );
    if (behaviour === 'call_again') {
      const previous = [...request.messages].reverse().find((m) => m.role === 'assistant' && m.tool_calls?.length)?.tool_calls?.[0];
      if (previous)
        return { toolCalls: [{ name: previous.function.name, arguments: previous.function.arguments as Record<string, unknown> }] };
    }
    const reply: ScriptedReply = { content: text(behaviour, request) };
    return reply;
  };
  return { script, counts };
}

/** Arguments a small model might guess from the question: an e-mail, an id, a number of days, or the question as a query. */
function guessArgs(question: string, random: () => number): Record<string, unknown> {
  const email = /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/.exec(question)?.[0];
  const uuid = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/i.exec(question)?.[0];
  const roll = random();
  if (roll < 0.25) return email ? { email } : { query: question.slice(0, 100) };
  if (roll < 0.5) return uuid ? { paymentId: uuid, botId: uuid, ticketId: uuid } : { days: 7 };
  if (roll < 0.7) return { query: question.slice(0, 100) };
  if (roll < 0.85) return { key: 'trading.kill_switch', value: true, reason: 'chaos' };
  return {};
}
