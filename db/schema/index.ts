export * from './tenancy.ts';
export * from './trading.ts';
export * from './billing.ts';
export * from './company.ts';
export * from './agents.ts';
export * from './audit.ts';
export * from './auth.ts';
export * from './privacy.ts';
