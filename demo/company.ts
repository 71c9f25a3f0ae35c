import { departments, type Department } from '../db/index.ts';
import { PLANS } from '../billing/index.ts';
import { DEPARTMENT_TITLES, STRATEGY_DEFAULTS } from './content.ts';
import { simulateBilling } from './billing-history.ts';
import {
  DAY,
  HOUR,
  startGeneration,
  type Company,
  type DemoCompany,
  type DemoOptions,
  type Generation,
  type Trader,
} from './generation.ts';
import {
  addApprovals,
  addConfiguration,
  addDocuments,
  addLeads,
  addMarketing,
  addSecurityEvents,
  addSupportTickets,
} from './operations.ts';
import { addBots } from './trading-history.ts';

export type { DemoCompany, DemoOptions } from './generation.ts';

/**
 * The whole demo company, one section after the other. The sections draw from one random
 * sequence in this order, so the same seed, date and size give the same rows byte for byte
 * (test/demo/determinism.test.ts): a new draw goes at the end of its section's work, and
 * sections are not reordered.
 */
export function generateDemoCompany(options: DemoOptions): DemoCompany {
  const g = startGeneration(options);
  const company = addCompanyAndStaff(g);
  addPlansAndStrategies(g, company);
  const traders = addTraders(g);
  addSupportTickets(g, company, traders);
  addLeads(g, company, traders);
  addMarketing(g, company);
  addDocuments(g, company);
  addConfiguration(g, company);
  const bruteForceTarget = addSecurityEvents(g, traders);
  addApprovals(g, company, traders, bruteForceTarget);
  return g.data;
}

/** The company tenant, its CEO, a head and 2–3 members in every department, and an admin. */
function addCompanyAndStaff(g: Generation): Company {
  const { rng, asOf, data, person } = g;
  const companyId = rng.uuid();
  const companyCreated = new Date(asOf - 900 * DAY);
  data.tenants.push({ id: companyId, kind: 'company', name: 'BotCriptoFy Tecnologia Ltda', locale: 'pt-BR', createdAt: companyCreated });
  const staffByDepartment = new Map<Department, { staffId: string; userId: string }[]>();
  const addStaff = (department: Department, role: 'member' | 'head' | 'ceo' | 'admin', title: string) => {
    const who = person('botcriptofy.com.br');
    const userId = rng.uuid();
    const staffId = rng.uuid();
    const createdAt = new Date(companyCreated.getTime() + rng.int(0, 400) * DAY);
    data.users.push({
      id: userId,
      tenantId: companyId,
      email: who.email,
      name: who.name,
      locale: rng.chance(0.85) ? 'pt-BR' : 'en',
      createdAt,
    });
    data.staff.push({ id: staffId, userId, tenantId: companyId, department, role, title, createdAt });
    const list = staffByDepartment.get(department) ?? [];
    list.push({ staffId, userId });
    staffByDepartment.set(department, list);
  };
  addStaff('ceo', 'ceo', 'CEO');
  for (const department of departments) {
    if (department === 'ceo') continue;
    const titles = DEPARTMENT_TITLES[department]!;
    addStaff(department, 'head', titles.head);
    const members = rng.int(2, 3);
    for (let i = 0; i < members; i++) addStaff(department, 'member', titles.member);
  }
  addStaff('settings', 'admin', 'Administrador de Sistemas');
  const staffOf = (department: Department) => rng.pick(staffByDepartment.get(department)!);
  const ceoUserId = staffByDepartment.get('ceo')![0]!.userId;
  return { companyId, createdAt: companyCreated, staffByDepartment, ceoUserId, staffOf };
}

/** The plans as the code defines them, and the built-in strategies. */
function addPlansAndStrategies(g: Generation, company: Company): void {
  const { rng, data } = g;
  const companyCreated = company.createdAt;
  for (const plan of Object.values(PLANS)) {
    data.plans.push({
      id: plan.id,
      name: plan.name,
      currency: plan.currency,
      monthlyPriceCents: plan.monthlyPriceCents,
      yearlyPriceCents: plan.yearlyPriceCents,
      limits: plan.limits,
      updatedAt: companyCreated,
    });
  }
  for (const [name, description, parameters] of STRATEGY_DEFAULTS) {
    data.strategies.push({
      id: rng.uuid(),
      tenantId: null,
      name,
      description,
      parameters,
      createdAt: companyCreated,
      updatedAt: companyCreated,
    });
  }
}

/** The traders: account, user, Stripe customer, 12+ months of billing, and bots for 60 %. */
function addTraders(g: Generation): Trader[] {
  const { rng, asOf, data, person, options } = g;
  const traderTenants: Trader[] = [];
  const invoices = { number: 1000 };
  for (let t = 0; t < options.traders; t++) {
    const tenantId = rng.uuid();
    const userId = rng.uuid();
    const who = person(rng.pick(['gmail.com', 'hotmail.com', 'outlook.com', 'yahoo.com.br', 'uol.com.br']));
    const signup = new Date(asOf - rng.int(1, 450) * DAY - rng.int(0, 23) * HOUR);
    const locale = rng.chance(0.85) ? 'pt-BR' : 'en';
    data.tenants.push({ id: tenantId, kind: 'trader', name: who.name, locale, createdAt: signup });
    data.users.push({ id: userId, tenantId, email: who.email, name: who.name, locale, createdAt: signup });
    const customerId = rng.uuid();
    data.customers.push({ id: customerId, tenantId, email: who.email, name: who.name, createdAt: signup });
    const planId = simulateBilling(g, invoices, tenantId, customerId, signup);
    traderTenants.push({ tenantId, userId, planId, name: who.name, email: who.email });
    if (rng.chance(0.6)) addBots(g, tenantId, planId);
  }
  return traderTenants;
}
