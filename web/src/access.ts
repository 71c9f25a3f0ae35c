import type { Me } from './api.ts';

// Which pages a person may use, from what GET /me says the server's permission code allows
// them (`access`: the tools the policy lets them call, the agents they may ask, whether they
// decide approvals). Each page is listed with what its API routes need; no permission table
// of the app's own. Pages not listed here (Security, the trader's own pages) are everyone's
// who gets them in the menu.

const NEEDS: Readonly<Record<string, (access: Me['access']) => boolean>> = {
  '/bots': (a) => a.tools.includes('list_bots'),
  '/backtest': (a) => a.tools.includes('submit_backtest'),
  '/profit': (a) => a.tools.includes('pnl_by_period'),
  '/report': (a) => a.tools.includes('company_kpis'),
  '/approvals': (a) => a.decidesApprovals,
  '/agents': (a) => a.agents.length > 0,
  '/status': (a) => a.tools.includes('system_status'),
  '/audit': (a) => a.tools.includes('query_audit_log'),
  '/security-events': (a) => a.tools.includes('recent_security_events'),
};

/** Whether `me` may use the page at `path` (a bot's page: as the bots list). */
export function mayOpen(me: Me, path: string): boolean {
  const page = path.startsWith('/bots/') ? '/bots' : path;
  return NEEDS[page]?.(me.access) ?? true;
}

/** Where a signed-in person lands: the first page they may use, in the menu's order (the bots list for most). */
export function homeFor(me: Me): string {
  return Object.keys(NEEDS).find((page) => mayOpen(me, page)) ?? '/security';
}
