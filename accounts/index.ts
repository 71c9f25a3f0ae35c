export {
  AUTH_BASE_PATH,
  CLIENT_IP_HEADER,
  DEFAULT_SIGN_IN_LIMIT,
  createAccounts,
  sessionSecret,
  setPassword,
  type Accounts,
  type AccountsOptions,
  type Auth,
  type SessionPerson,
  type SignInLimit,
} from './auth.ts';
