import { departments, type Department } from '../db/index.ts';

/** Department names staff use, in pt-BR and English, to the agent's name. */
const ALIASES: Record<string, Department> = {
  ceo: 'ceo',
  presidente: 'ceo',
  diretoria: 'ceo',
  finance: 'finance',
  financeiro: 'finance',
  financas: 'finance',
  finanças: 'finance',
  marketing: 'marketing',
  sales: 'sales',
  vendas: 'sales',
  comercial: 'sales',
  security: 'security',
  seguranca: 'security',
  segurança: 'security',
  support: 'support',
  sac: 'support',
  suporte: 'support',
  atendimento: 'support',
  audit: 'audit',
  auditoria: 'audit',
  documents: 'documents',
  documentos: 'documents',
  docs: 'documents',
  settings: 'settings',
  configuracoes: 'settings',
  configurações: 'settings',
  config: 'settings',
  subscriptions: 'subscriptions',
  assinaturas: 'subscriptions',
};

export function agentByName(name: string): Department | undefined {
  const key = name.trim().toLowerCase();
  return ALIASES[key] ?? ((departments as readonly string[]).find((d) => d === key) as Department | undefined);
}

/** The ten agents, one per department, in the order lists show them. */
export const AGENT_NAMES: readonly Department[] = departments;
