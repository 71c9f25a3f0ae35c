/** Columns a person's data export must never carry (credentials, keys, their hashes), by name. */
export const SECRET_COLUMNS = [
  'password',
  'token',
  'api_key_encrypted',
  'api_secret_encrypted',
  'key_hash',
  'secret',
  'backup_codes',
  'code_hash',
] as const;
