import { foldText } from './fold.ts';
import type { Locale } from './locale.ts';

// Which of the product's languages a person wrote in: marker words of each language (and,
// for Portuguese, its accented letters), counted outside e-mails, ids, slugs and keys.

/** An e-mail or a UUID: not words of either language. */
const EMAIL = /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/;
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/i;

const PT_WORDS = new Set(
  (
    'o a os as um uma de do da dos das que qual quais quanto quantos quantas como esta estao sao para pra pro com nao meu minha meus minhas eu voce ' +
    'hoje ontem amanha receita pagamentos pagamento conta mostra mostre lista e no na nos nas em ta tem temos teve esse essa esses essas isso aquele ' +
    'dia dias semana mes ultimos ultimas ultimo ultima agora favor cliente clientes quem onde cade quero preciso faz muda mude marca agenda volta liga ' +
    'desliga publica procura busca buscar algum alguma ja tudo todos todas qualquer sobre seu sua nosso nossa deles ele ela foi vai tao estamos ' +
    'vc vcs q tb tbm pq ne blz msm oq hj qto qtos qnts ficou ser estou aqui mas porque tambem muito mais menos ainda so depois antes ate ' +
    'pelo pela pelos pelas num numa dele dela voces obrigado oi ola'
  ).split(' '),
);
const EN_WORDS = new Set(
  (
    'the what which how is are of for with my today show list give me any do does did we our you have has who when where why can to on in at from by ' +
    'per this last next new all about please pls set move stop pause refund find search open roll back version history status change up was were ' +
    'many there it its be been some get tell let and or so if not right now week month year yearly monthly annual customer top ' +
    'i us your their they them that those these will would should could just still only also very really than then into over off flip bump ' +
    'lately yesterday much paying customers payments failed weird stuff whats hows thats isnt dont doesnt gonna wanna thanks hey hi'
  ).split(' '),
);

/** How many Portuguese and English marker words (and accented letters, for Portuguese) a text has. */
export function localeScores(text: string): { pt: number; en: number } {
  const words = foldText(text.replace(EMAIL, ' ').replace(UUID, ' '))
    .replace(/[a-z0-9_]+(?:[.-][a-z0-9_]+)+/g, ' ')
    .split(/[^a-z']+/)
    .filter(Boolean);
  const accents = (text.match(/[ãõçáéíóúâêô]/gi) ?? []).length;
  return {
    pt: words.filter((w) => PT_WORDS.has(w)).length + accents,
    en: words.filter((w) => EN_WORDS.has(w) || /^(what|who|where|how|it|that|there)'s$/.test(w) || /^\w+n't$/.test(w)).length,
  };
}

/** Whether the text is Portuguese (most staff) or English, for the reply. */
export function detectLocale(text: string): Locale {
  // The request, not a text it carries ("publish kb-x: <Portuguese body>"), and no emails, ids, slugs or keys.
  const request = /^(.{8,}?):\s+(.{20,})$/s.exec(text)?.[1] ?? text;
  const { pt, en } = localeScores(request);
  return en > pt ? 'en' : 'pt-BR';
}
