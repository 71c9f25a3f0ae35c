import { changesSomething, type ToolOutcome } from '../tools/index.ts';
import { foldText, type Locale } from '../i18n/index.ts';
import { localeScores } from '../i18n/index.ts';

// The answer gate: what a model's answer must be before anyone reads it. It runs after the
// grounding check (figures) on every model-written text — a turn's answer, a department's
// answer to the CEO, the executive report's summary. A failing answer is never shown: the
// caller replaces it with a rendering of the turn's tool results and audits the reason.
// A small model fails in these ways in the field; each rule catches one of them.

export type { Locale };

/**
 * The longest answer kept from the model: about two Telegram messages (4,096 characters each).
 * Agents are told to answer in a few sentences; longer text is a runaway unless asked for.
 */
export const MAX_ANSWER_CHARS = 6_000;

export interface GateInput {
  readonly answer: string;
  /** The language of the question; the answer must be written in it. */
  readonly locale: Locale;
  /** This turn's tool outcomes: an effect the answer claims must be among them. */
  readonly outcomes: readonly ToolOutcome[];
  /** Configured secret values (keys, tokens, passwords) that must never be written out. */
  readonly secrets?: readonly string[] | undefined;
}

export type GateReason = 'empty' | 'unprintable' | 'wrong_language' | 'markup' | 'too_long' | 'repeated' | 'secret' | 'unbacked_claim';

export interface GateRule {
  readonly reason: GateReason;
  /** What the rule keeps out, in one line (README and audit readers). */
  readonly description: string;
  /** Why the answer fails this rule (never quoting a secret), or undefined when it passes. */
  check(input: GateInput): string | undefined;
}

export type GateVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: GateReason; readonly detail: string };

// --- empty and unprintable -------------------------------------------------------------------

// Control characters other than tab and newlines, C1 controls, the replacement character,
// non-characters and private-use code points; lone surrogates are checked apart.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this pattern finds
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFFFD\uFFFE\uFFFF\p{Co}]/u;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** A token a person writes: a word, a number, a figure with its unit, an email, a key. */
const CLEAN_TOKEN =
  // biome-ignore lint/suspicious/noMisleadingCharacterClass: the emoji joiners are listed one by one on purpose: a token of pictographs, variation selectors and joiners in any order
  /^[("'“‘[«]*(?:R\$|US\$|[$€£~≈#@+\-−±])?(?:[\p{L}\p{N}][\p{L}\p{M}\p{N}'’.,:;/%@_+\-–&#]*|[-–—•→←↔=+*/|:%$€£~≈≥≤<>…#]+|[\p{Extended_Pictographic}\u{FE0F}\u{200D}]+)[)\]"'”’».,;:!?%…]*$/u;

function unprintable({ answer }: GateInput): string | undefined {
  if (CONTROL.test(answer)) return 'control or non-printable characters';
  if (LONE_SURROGATE.test(answer)) return 'broken characters';
  const tokens = answer.replace(/[*_`]/g, '').split(/\s+/).filter(Boolean);
  const junk = tokens.filter((token) => !CLEAN_TOKEN.test(token)).length;
  if (tokens.length > 0 && junk / tokens.length > 0.3) return `${junk} of ${tokens.length} words are not words`;
  const words = tokens.filter((token) => /\p{L}{2,}/u.test(token)).length;
  if (words === 0) return 'no words';
  return undefined;
}

// --- language -----------------------------------------------------------------------------

function wrongLanguage({ answer, locale }: GateInput): string | undefined {
  const letters = answer.match(/\p{L}/gu) ?? [];
  if (letters.length >= 8) {
    const latin = letters.filter((c) => /\p{Script=Latin}/u.test(c)).length;
    if (latin / letters.length < 0.9) return 'written in another script';
  }
  const { pt, en } = localeScores(answer);
  const [own, other] = locale === 'en' ? [en, pt] : [pt, en];
  if (other >= 3 && other > own * 2)
    return `written in ${locale === 'en' ? 'Portuguese' : 'English'} (asked in ${locale === 'en' ? 'English' : 'Portuguese'})`;
  return undefined;
}

// --- markup ---------------------------------------------------------------------------------

const MARKUP: readonly (readonly [RegExp, string])[] = [
  [
    /<\/?\s*(tool_call|tool_response|tools|function_call|function|think|answer|response|system|assistant|user)\b[^>]*>/i,
    'tool-call or chat-template tags',
  ],
  [/<\|[^|>\n]{1,40}\|>/, 'chat-template tokens'],
  [/^\s*(\{|\[\s*[{"\d\]])/, 'raw JSON'],
  [/\{\s*"[^"\n]{1,60}"\s*:/, 'JSON in the text'],
  [/"(name|arguments|parameters|tool|tool_name|function)"\s*:/, 'tool-call syntax'],
  [/```/, 'a code block'],
  [/<\/?[a-z][a-z0-9]*(\s+[a-z-]+(=("[^"]*"|'[^']*'|[^\s>]+))?)*\s*\/?>/i, 'HTML tags'],
];

function markup({ answer }: GateInput): string | undefined {
  for (const [pattern, what] of MARKUP) if (pattern.test(answer)) return what;
  for (const [open, close] of [
    ['{', '}'],
    ['[', ']'],
  ] as const) {
    if (count(answer, open) !== count(answer, close)) return `unbalanced ${open}${close}`;
  }
  return undefined;
}

const count = (text: string, char: string) => text.split(char).length - 1;

// --- length and repetition ------------------------------------------------------------------

function tooLong({ answer }: GateInput): string | undefined {
  return answer.length > MAX_ANSWER_CHARS ? `${answer.length} characters (at most ${MAX_ANSWER_CHARS})` : undefined;
}

function repeated({ answer }: GateInput): string | undefined {
  const seen = new Set<string>();
  for (const part of answer.split(/\n+|(?<=[.!?])\s+/)) {
    const key = foldText(part)
      .replace(/^[\s\-*•\d.)]+/, '')
      .replace(/\s+/g, ' ')
      .trim();
    if (key.length < 20) continue;
    if (seen.has(key)) return 'a sentence or line repeated';
    seen.add(key);
  }
  if (/(.{6,}?)\1{3,}/su.test(answer)) return 'a phrase repeated in a loop';
  if (/\b(\p{L}+)\b(?:\s+\1\b){3,}/iu.test(answer)) return 'a word repeated in a loop';
  return undefined;
}

// --- secrets ----------------------------------------------------------------------------------

const SECRET_SHAPES: readonly (readonly [RegExp, string])[] = [
  [/\b(sk|rk)_(live|test)_[A-Za-z0-9]{6,}/, 'a Stripe secret key'],
  [/\bwhsec_[A-Za-z0-9]{6,}/, 'a webhook signing secret'],
  [/\b\d{6,12}:[A-Za-z0-9_-]{30,}/, 'a Telegram bot token'],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key'],
  [/\b(AKIA|ASIA)[0-9A-Z]{16}\b/, 'a cloud access key'],
  [/\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/]+:[^\s@/]+@/i, 'a URL with a password'],
  [/\b(api[_ -]?key|api[_ -]?secret|secret|password|senha|token|master[_ ]?key|chave secreta)\s*[:=]\s*\S{8,}/i, 'a credential'],
];
/** A long token of key material: letters and digits, 32 characters or more. */
const KEY_MATERIAL = /[A-Za-z0-9+/_=-]{32,}/g;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function secret({ answer, outcomes, secrets }: GateInput): string | undefined {
  for (const value of secrets ?? []) if (value.length >= 8 && answer.includes(value)) return 'a configured secret';
  for (const [pattern, what] of SECRET_SHAPES) if (pattern.test(answer)) return what;
  const candidates = [...answer.matchAll(KEY_MATERIAL)]
    .map((m) => m[0])
    .filter((token) => /[0-9]/.test(token) && /[A-Za-z]/.test(token) && !UUID.test(token));
  if (candidates.length === 0) return undefined;
  // A long identifier that a tool of this turn returned (a hash, an id) is not a leak.
  const sources = JSON.stringify(outcomes.map((o) => ('result' in o ? o.result : 'pendingApproval' in o ? o.pendingApproval : o.message)));
  return candidates.some((token) => !token.split(/[-_]/).every((piece) => piece.length < 16 || sources.includes(piece)))
    ? 'key material no tool returned'
    : undefined;
}

// --- claims of an effect --------------------------------------------------------------------

// Written against folded text (lower case, no accents). A status read ("a campanha está
// pausada") is not a claim; a first-person past action, a passive "foi/has been", a "now on"
// or a bare "done" is.
const PT_ACTIONS =
  'ativ|desativ|lig|deslig|paus|par|reembols|estorn|alter|mud|troc|envi|atualiz|public|congel|bloque|agend|cancel|escal|escalon|encaminh|respond|mov|cri|inici|execut|aplic|remov|apag|suspend|suspens|configur|defin|revert|restaur|revog|acion|encerr|fech|marc|registr|aument|diminu|reduz|program|rebaix|devolv|reativ|retom';
const CLAIMS: readonly RegExp[] = [
  /\b(ativei|desativei|liguei|desliguei|pausei|parei|reembolsei|estornei|devolvi|alterei|mudei|troquei|enviei|atualizei|publiquei|congelei|bloqueei|agendei|cancelei|escalei|escalonei|encaminhei|respondi|movi|criei|iniciei|executei|apliquei|removi|apaguei|suspendi|configurei|defini|coloquei|reverti|restaurei|revoguei|acionei|encerrei|fechei|marquei|registrei|aumentei|reduzi|programei|rebaixei|reativei|retomei|efetuei)\b/,
  new RegExp(
    `\\b(foi|foram|ficou|ficaram|agora esta|agora estao|esta agora|estao agora)\\s+(devidamente\\s+|com sucesso\\s+)?(${PT_ACTIONS})(ad|id)?[oa]s?\\b`,
  ),
  /\b(com sucesso|foi feito|foi feita|feito com sucesso|operacao concluida|acao concluida|solicitacao atendida)\b/,
  /(^|[.!?\n]\s*)(feito|prontinho|done|all set|all done)\s*([!.,:;]|$)/m,
  /\b(i\s*('ve|have|just|already)?|we\s*('ve|have just|just))\s*(turned|switched|flipped|enabled|disabled|activated|deactivated|started|stopped|paused|resumed|refunded|changed|updated|set|sent|published|froze|frozen|blocked|scheduled|cancell?ed|escalated|replied|answered|moved|executed|applied|removed|deleted|rolled|reverted|restored|revoked|upgraded|downgraded|marked|bumped)\b/,
  /\b(has|have|had)\s+(now\s+|just\s+|successfully\s+)?been\s+(turned|switched|flipped|enabled|disabled|activated|deactivated|started|stopped|paused|resumed|refunded|changed|updated|set|sent|published|frozen|blocked|scheduled|cancell?ed|escalated|moved|created|executed|applied|removed|deleted|rolled back|reverted|restored|revoked|upgraded|downgraded|processed|issued|bumped)\b/,
  /\b(is|are)\s+now\s+(on|off|enabled|disabled|active|activated|paused|stopped|frozen|running|live|refunded|cancell?ed|published|scheduled)\b/,
  /\bsuccessfully\b/,
];

/** Whether a text claims that something was done (pt-BR or English). */
export function claimsEffect(text: string): boolean {
  const folded = foldText(text);
  return CLAIMS.some((pattern) => pattern.test(folded));
}

/** Outcomes of this turn that changed something or created an approval. */
export function effectOutcomes(outcomes: readonly ToolOutcome[]): ToolOutcome[] {
  return outcomes.filter((o) => o.ok && changesSomething(o.tool));
}

function unbackedClaim({ answer, outcomes }: GateInput): string | undefined {
  if (!claimsEffect(answer)) return undefined;
  return effectOutcomes(outcomes).length > 0 ? undefined : 'claims an action no tool of this turn performed';
}

/** The rules, in the order they are checked; the first that fails names the reason. */
export const ANSWER_RULES: readonly GateRule[] = [
  { reason: 'empty', description: 'there is an answer at all', check: ({ answer }) => (answer.trim() === '' ? 'empty answer' : undefined) },
  { reason: 'markup', description: 'no tool-call syntax, JSON, code blocks, HTML or chat-template residue', check: markup },
  {
    reason: 'unprintable',
    description: 'printable text made of words (no control characters, random bytes or broken characters)',
    check: unprintable,
  },
  { reason: 'too_long', description: `at most ${MAX_ANSWER_CHARS} characters`, check: tooLong },
  { reason: 'repeated', description: 'no sentence, line or phrase repeated', check: repeated },
  {
    reason: 'secret',
    description:
      'no secret-shaped string (Stripe keys, webhook secrets, bot tokens, key material, URL passwords) and no configured secret value',
    check: secret,
  },
  {
    reason: 'wrong_language',
    description: 'written in the language of the question (pt-BR or English), in Latin script',
    check: wrongLanguage,
  },
  {
    reason: 'unbacked_claim',
    description: 'no claim of an effect (done, refunded, turned on…) unless a tool of this turn produced it or created its approval',
    check: unbackedClaim,
  },
];

/** Checks a model's answer against every rule; the first failure is the verdict. */
export function gateAnswer(input: GateInput): GateVerdict {
  for (const rule of ANSWER_RULES) {
    const detail = rule.check(input);
    if (detail !== undefined) return { ok: false, reason: rule.reason, detail };
  }
  return { ok: true };
}
