import { foldText } from '../../i18n/index.ts';

// Finding a document by what it is about, in either language: staff type "the privacy policy",
// "procedimento de chave vazada" or "refund rules" for documents titled in Portuguese. The
// words are folded (no accents, lower case), cut to a short stem (so "reembolso",
// "reembolsos" and "reembolsar" meet), and mapped across languages by a small glossary of the
// company's own vocabulary. PostgreSQL's full-text search runs first; this ranks what it missed.

const STOPWORDS = new Set(
  (
    'a o as os um uma de da do das dos e em no na nos nas para pra pro por com sem sobre que qual quais quem onde como tem ter meu minha ' +
    'nosso nossa seu sua esse essa este esta isso aquele aquela ver veja mostra mostre manda abre abra acha ache procura procure busca busque ' +
    'the an of to for on in about with and or is are do does we you i my our me find search show send get pull up open look where what how can ' +
    'any there have has this that please pls doc docs documento documentos document documents texto text versao version atual current ' +
    'last ultimo ultima quem who edited editou mudou changed'
  ).split(' '),
);

/** pt-BR ↔ English words of the company's documents, each group meaning one thing. */
const GLOSSARY: readonly (readonly string[])[] = [
  ['reembolso', 'reembolsos', 'reembolsar', 'estorno', 'devolucao', 'refund', 'refunds', 'chargeback'],
  ['politica', 'politicas', 'policy', 'policies', 'regras', 'rules', 'normas'],
  ['privacidade', 'privacy', 'lgpd', 'dados', 'data', 'gdpr'],
  ['procedimento', 'procedimentos', 'procedure', 'procedures', 'processo', 'process', 'playbook', 'runbook', 'passo'],
  ['chave', 'chaves', 'key', 'keys', 'api'],
  ['vazada', 'vazadas', 'vazamento', 'vazou', 'leaked', 'leak', 'exposed', 'comprometida', 'compromised'],
  ['incidente', 'incidentes', 'incident', 'incidents', 'resposta', 'response'],
  ['termos', 'termo', 'terms', 'uso', 'use', 'contrato', 'contratos', 'contract', 'contracts', 'acordo', 'agreement'],
  ['risco', 'riscos', 'risk', 'risks'],
  ['atendimento', 'suporte', 'support', 'sac', 'sla', 'prazo', 'prazos'],
  ['seguranca', 'security', 'senha', 'senhas', 'password', 'passwords', 'acesso', 'access'],
  ['cobranca', 'cobrancas', 'billing', 'pagamento', 'pagamentos', 'payment', 'payments', 'fatura', 'invoice'],
  ['plano', 'planos', 'plan', 'plans', 'assinatura', 'subscription', 'preco', 'precos', 'price', 'pricing'],
  ['robo', 'robos', 'bot', 'bots', 'estrategia', 'strategy', 'backtest'],
  ['saque', 'saques', 'withdrawal', 'withdraw', 'retirada'],
  ['cancelamento', 'cancelar', 'cancel', 'cancellation'],
];

const stem = (word: string) => word.slice(0, 5);
const GROUP_OF = new Map<string, number>();
for (const [index, group] of GLOSSARY.entries()) for (const word of group) GROUP_OF.set(stem(word), index);

/** The terms of a query: each meaningful word as the set of stems it may appear as. */
export function queryTerms(query: string): Set<string>[] {
  const words = foldText(query)
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length >= 2 && !STOPWORDS.has(w));
  return [...new Set(words)].map((word) => {
    const group = GROUP_OF.get(stem(word));
    return new Set(group === undefined ? [stem(word)] : GLOSSARY[group]!.map(stem));
  });
}

export interface Searchable {
  readonly title: string;
  readonly body: string;
  readonly slug: string;
}

/** A document's stems: of its title and slug (they weigh 3), and of its body (1). */
interface DocumentStems {
  readonly head: ReadonlySet<string>;
  readonly body: ReadonlySet<string>;
}

const stemsOf = (text: string) =>
  new Set(
    foldText(text)
      .split(/[^a-z0-9]+/)
      .filter((w) => w.length >= 2)
      .map(stem),
  );
const documentStems = (doc: Searchable): DocumentStems => ({
  head: stemsOf(`${doc.title} ${doc.slug.replace(/-/g, ' ')}`),
  body: stemsOf(doc.body),
});

/** Where a term is found: 3 in the title or slug, 1 in the body, 0 nowhere. A term matches a word starting with one of its stems. */
function termWeight(term: ReadonlySet<string>, stems: DocumentStems): 0 | 1 | 3 {
  if ([...term].some((s) => stems.head.has(s))) return 3;
  return [...term].some((s) => stems.body.has(s)) ? 1 : 0;
}

/** How well a document matches: the sum of its terms' weights (0 when nothing matched). */
export function meaningScore(terms: readonly Set<string>[], doc: Searchable): number {
  const stems = documentStems(doc);
  return terms.reduce((sum, term) => sum + termWeight(term, stems), 0);
}

/**
 * The documents that match the query by meaning, best first: at least half of the query's
 * terms found (title or body), and one of them in the title or slug.
 */
export function rankByMeaning<T extends Searchable>(query: string, docs: readonly T[], limit: number): T[] {
  const terms = queryTerms(query);
  if (terms.length === 0) return [];
  const scored = docs
    .map((doc) => {
      const stems = documentStems(doc);
      const weights = terms.map((term) => termWeight(term, stems));
      return {
        doc,
        score: weights.reduce<number>((a, b) => a + b, 0),
        inHead: weights.filter((w) => w === 3).length,
        found: weights.filter((w) => w > 0).length,
      };
    })
    .filter((s) => s.inHead > 0 && s.found * 2 >= terms.length)
    .sort((a, b) => b.score - a.score || a.doc.slug.localeCompare(b.doc.slug));
  return scored.slice(0, limit).map((s) => s.doc);
}
