// Names and texts for the demo company (pt-BR first: staff and most traders are Brazilian).

export const FIRST_NAMES = [
  'Ana',
  'Bruno',
  'Carla',
  'Diego',
  'Eduarda',
  'Felipe',
  'Gabriela',
  'Henrique',
  'Isabela',
  'João',
  'Karina',
  'Lucas',
  'Mariana',
  'Nicolas',
  'Olívia',
  'Paulo',
  'Rafaela',
  'Rodrigo',
  'Sofia',
  'Thiago',
  'Beatriz',
  'Caio',
  'Daniela',
  'Enzo',
  'Fernanda',
  'Gustavo',
  'Helena',
  'Igor',
  'Juliana',
  'Leonardo',
  'Larissa',
  'Mateus',
  'Natália',
  'Otávio',
  'Patrícia',
  'Renato',
  'Sabrina',
  'Tatiana',
  'Vinícius',
  'Yasmin',
] as const;

export const LAST_NAMES = [
  'Silva',
  'Santos',
  'Oliveira',
  'Souza',
  'Rodrigues',
  'Ferreira',
  'Alves',
  'Pereira',
  'Lima',
  'Gomes',
  'Costa',
  'Ribeiro',
  'Martins',
  'Carvalho',
  'Almeida',
  'Lopes',
  'Soares',
  'Fernandes',
  'Vieira',
  'Barbosa',
  'Rocha',
  'Dias',
  'Nascimento',
  'Andrade',
  'Moreira',
  'Nunes',
  'Marques',
  'Machado',
  'Mendes',
  'Freitas',
] as const;

export const DEPARTMENT_TITLES: Record<string, { head: string; member: string }> = {
  finance: { head: 'Diretora Financeira', member: 'Analista Financeiro' },
  marketing: { head: 'Head de Marketing', member: 'Analista de Marketing' },
  sales: { head: 'Gerente de Vendas', member: 'Executivo de Vendas' },
  security: { head: 'Head de Segurança', member: 'Analista de Segurança' },
  support: { head: 'Coordenadora de SAC', member: 'Atendente de SAC' },
  audit: { head: 'Auditor-Chefe', member: 'Analista de Auditoria' },
  documents: { head: 'Gestora de Documentos', member: 'Analista de Documentação' },
  settings: { head: 'Head de Plataforma', member: 'Engenheiro de Plataforma' },
  subscriptions: { head: 'Gerente de Assinaturas', member: 'Analista de Assinaturas' },
};

export const TICKET_SUBJECTS = [
  ['Bot parou de operar sem motivo', 'bots'],
  ['Como conectar minha conta da Binance?', 'exchange'],
  ['Cobrança duplicada no cartão', 'billing'],
  ['Quero mudar para o plano Pro', 'billing'],
  ['Stop loss não foi executado', 'bots'],
  ['Erro ao rodar backtest', 'backtest'],
  ['Não recebo notificações no Telegram', 'telegram'],
  ['Dúvida sobre a estratégia RSI', 'strategy'],
  ['Pedido de reembolso', 'billing'],
  ['Minha chave de API foi bloqueada', 'security'],
  ['How do I export my trade history?', 'lgpd'],
  ['Bot bought at the wrong price', 'bots'],
  ['Solicito exclusão dos meus dados (LGPD)', 'lgpd'],
  ['Lucro exibido diferente da corretora', 'bots'],
  ['Can I run two bots on the same pair?', 'bots'],
] as const;

export const LEAD_SOURCES = ['site', 'instagram', 'youtube', 'indicação', 'evento', 'telegram', 'google-ads', 'influencer'] as const;

export const COMPANY_DOMAINS = ['capitalrio.com.br', 'investsul.com.br', 'tradernorte.com', 'alphaquant.io', 'boitempo.com.br'] as const;

export const CAMPAIGN_THEMES = [
  'Black Friday Cripto',
  'Semana do Trader',
  'Webinar: RSI na prática',
  'Indique e Ganhe',
  'Lançamento Enterprise',
  'Curso Bots para Iniciantes',
  'Volta às Aulas Cripto',
  'Halving Watch',
] as const;

export const INFLUENCER_HANDLES = [
  ['@criptocomcafe', 'instagram'],
  ['@tradersemmedo', 'youtube'],
  ['@bitcoinbrasilia', 'twitter'],
  ['@gráficoslivres', 'youtube'],
  ['@satoshinapraia', 'instagram'],
  ['@defidescomplicado', 'tiktok'],
  ['@velasverdes', 'instagram'],
  ['@hodlerpaulista', 'youtube'],
  ['@altcoinsdanana', 'tiktok'],
  ['@tradingrj', 'instagram'],
  ['@mestredosbots', 'youtube'],
  ['@cryptoemfoco', 'twitter'],
] as const;

/** [slug, title, category, department, body paragraphs] */
export const DOCUMENTS: readonly (readonly [string, string, string, string, readonly string[]])[] = [
  [
    'politica-de-privacidade',
    'Política de Privacidade (LGPD)',
    'policy',
    'documents',
    [
      'Tratamos dados pessoais conforme a Lei Geral de Proteção de Dados (Lei 13.709/2018).',
      'O titular pode solicitar a exportação ou a exclusão dos seus dados a qualquer momento pelo SAC.',
      'Chaves de API de corretoras são armazenadas cifradas (AES-256-GCM) e nunca são exibidas.',
    ],
  ],
  [
    'termos-de-uso',
    'Termos de Uso',
    'policy',
    'documents',
    [
      'O uso da plataforma implica a aceitação destes termos.',
      'Operações com criptoativos envolvem risco de perda total do capital investido.',
      'Resultados passados em backtests não garantem resultados futuros.',
    ],
  ],
  [
    'politica-de-risco',
    'Política de Gestão de Risco',
    'policy',
    'security',
    [
      'Todo robô opera com stop loss obrigatório.',
      'Operação real (live) só é permitida em planos Pro e Enterprise e após aprovação.',
      'Perda diária acima do limite configurado congela o robô automaticamente.',
    ],
  ],
  [
    'politica-de-reembolso',
    'Política de Reembolso',
    'policy',
    'finance',
    [
      'Reembolsos integrais são concedidos em até 7 dias da cobrança, conforme o Código de Defesa do Consumidor.',
      'Reembolsos exigem aprovação do Financeiro.',
    ],
  ],
  [
    'kb-conectar-binance',
    'Como conectar sua conta Binance',
    'kb',
    'support',
    [
      'Crie uma chave de API na Binance com permissão de leitura e de trade spot; nunca habilite saques.',
      'Cadastre a chave no painel; ela é cifrada antes de ser gravada.',
      'Recomendamos começar no modo paper (simulado) antes de operar com dinheiro real.',
    ],
  ],
  [
    'kb-estrategia-rsi',
    'Estratégia RSI agressiva',
    'kb',
    'support',
    [
      'Compra quando o RSI(14) fica abaixo de 40 e vende quando passa de 60.',
      'Stop loss de 3% e take profit de 2% protegem cada operação.',
    ],
  ],
  [
    'kb-backtest',
    'Como rodar um backtest',
    'kb',
    'support',
    [
      'Escolha a estratégia, o par e o período; o backtest usa candles reais da Binance.',
      'Taxas de 0,1% por lado são descontadas no resultado.',
    ],
  ],
  [
    'kb-telegram',
    'Configurando notificações no Telegram',
    'kb',
    'support',
    ['Use /start com o código recebido no painel para vincular sua conta.', 'Você pode silenciar ou desligar cada tipo de notificação.'],
  ],
  [
    'kb-planos',
    'Planos e limites',
    'kb',
    'subscriptions',
    [
      'Free: 1 robô em modo paper. Pro: 5 robôs e operação real. Enterprise: 50 robôs.',
      'Upgrades são cobrados proporcionalmente ao período restante.',
    ],
  ],
  [
    'procedimento-incidente',
    'Procedimento de Resposta a Incidentes',
    'procedure',
    'security',
    [
      'Ao detectar anomalia, congele a chave de API ou o robô afetado.',
      'Notifique Segurança e o CEO, registre tudo na trilha de auditoria.',
    ],
  ],
  [
    'procedimento-cobranca',
    'Régua de Cobrança (Dunning)',
    'procedure',
    'finance',
    ['Falha de pagamento: aviso ao cliente e ao Financeiro.', 'Após a última tentativa sem sucesso, o cliente volta ao plano Free.'],
  ],
  [
    'procedimento-sla',
    'SLA de Atendimento',
    'procedure',
    'support',
    ['Urgente: 2 horas. Alta: 8 horas. Normal: 24 horas. Baixa: 72 horas.'],
  ],
  [
    'procedimento-auditoria',
    'Auditoria Mensal',
    'procedure',
    'audit',
    ['Verificar a integridade da cadeia de auditoria.', 'Revisar aprovações de reembolso e operações reais.'],
  ],
  [
    'contrato-enterprise',
    'Modelo de Contrato Enterprise',
    'contract',
    'sales',
    ['Contrato anual com SLA de suporte de 4 horas e gerente de conta dedicado.'],
  ],
  [
    'contrato-influenciador',
    'Contrato de Parceria com Influenciador',
    'contract',
    'marketing',
    ['Comissão recorrente sobre assinaturas indicadas, paga mensalmente.'],
  ],
  [
    'relatorio-mensal-modelo',
    'Modelo de Relatório Executivo',
    'report',
    'ceo',
    ['Receita, MRR, churn, PnL dos robôs, incidentes de segurança e SLA de atendimento.'],
  ],
];

/** [key, description, values over time (oldest first)] */
export const CONFIG_ENTRIES: readonly (readonly [string, string, readonly unknown[]])[] = [
  ['trading.default_strategy', 'Strategy for new bots', ['rsi']],
  ['trading.loop_interval_seconds', 'Seconds between bot ticks', [15, 10]],
  [
    'trading.default_symbols',
    'Symbols offered by default',
    [
      ['BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'MATIC/USDT'],
      ['BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'POL/USDT'],
    ],
  ],
  ['trading.kill_switch', 'Halt every new entry of every bot (exits still run)', [false]],
  ['risk.max_daily_loss_pct', 'Daily loss that freezes a bot, percent of stake', [10, 5]],
  ['risk.max_open_positions_per_bot', 'Open positions per bot', [4]],
  ['risk.stop_loss_pct', 'Default stop loss, percent', [5, 3]],
  ['reports.daily_time', 'Daily executive report, local time', ['08:00']],
  ['reports.timezone', 'Time zone of schedules', ['America/Sao_Paulo']],
  [
    'support.sla_hours',
    'SLA per priority, hours',
    [
      { urgent: 4, high: 8, normal: 24, low: 72 },
      { urgent: 2, high: 8, normal: 24, low: 72 },
    ],
  ],
  ['security.brute_force_threshold', 'Failed logins in 10 minutes that raise an alert', [10, 5]],
  ['billing.dunning_final_action', 'What happens after the last failed retry', ['downgrade_to_free']],
  ['agents.model', 'Ollama model for the agents', ['qwen3:0.6b']],
  ['agents.max_steps', 'Tool-call steps per agent turn', [8, 5]],
  ['notifications.per_chat_per_second', 'Telegram messages per chat per second', [1]],
];

/**
 * The symbols the demo's bots trade: those the bundled candles replay, whose replayed prices
 * the demo's trades are priced at (demo/company.ts).
 */
export const SYMBOLS: readonly string[] = ['BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'POL/USDT'];

export const STRATEGY_DEFAULTS: readonly (readonly [string, string, Record<string, unknown>])[] = [
  [
    'rsi',
    'Aggressive RSI: buy RSI(14) < 40, sell > 60, stop loss -3 %, take profit +2 %',
    { period: 14, buyBelow: 40, sellAbove: 60, stopLossPct: 3, takeProfitPct: 2 },
  ],
  ['macd-cross', 'MACD(12,26,9) line crossing its signal', { fast: 12, slow: 26, signal: 9, stopLossPct: 3, takeProfitPct: 4 }],
  ['ema-cross', 'EMA(9) crossing EMA(21)', { fast: 9, slow: 21, stopLossPct: 3, takeProfitPct: 4 }],
  [
    'bollinger-reversion',
    'Buy below the lower Bollinger band(20, 2), sell at the middle',
    { period: 20, stdDev: 2, stopLossPct: 3, takeProfitPct: 2 },
  ],
  [
    'rsi-reference',
    'Reference RSI(14) < 40 / > 60 with next-open fills, for comparison with other engines',
    { period: 14, buyBelow: 40, sellAbove: 60 },
  ],
];
