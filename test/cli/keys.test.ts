import { beforeAll, describe, expect, it } from 'vitest';
import { testDrivers } from '../support/databases.ts';
import { seededCliCompany } from '../support/seeded-cli.ts';

// `botcriptofy keys create | list | revoke` on both drivers (issue 16): a person's personal API
// keys from the server's shell, through the same main() as the binary.

const MASTER_KEY = 'ef'.repeat(32);

interface Key {
  id: string;
  name: string;
  scope: string;
  prefix: string;
  expiresAt: string | null;
  revokedAt: string | null;
  key?: string;
}

describe.each(testDrivers)('botcriptofy keys on %s', { timeout: 300_000 }, (driver) => {
  const company = seededCliCompany(driver, { name: 'keys', masterKey: MASTER_KEY });
  const { cli, ok } = company;
  let trader: string;
  beforeAll(() => {
    trader = company.trader;
  });

  it('creates a key (printed once), lists it without the key, revokes it once', async () => {
    const printed = ok(await cli('keys', 'create', '--email', trader, '--name', 'grafana', '--scope', 'read'));
    expect(printed.stdout).toMatch(/\nbcf_[A-Za-z0-9_-]{43}\n/);
    expect(printed.stdout).toContain('Shown once');
    const created = JSON.parse(
      ok(await cli('keys', 'create', '--email', trader, '--name', 'bot script', '--scope', 'read_write', '--expires-days', '30', '--json'))
        .stdout,
    ) as Key;
    expect(created).toMatchObject({ name: 'bot script', scope: 'read_write', revokedAt: null });
    expect(created.key?.startsWith(created.prefix)).toBe(true);
    expect(Date.parse(created.expiresAt!) - Date.now()).toBeGreaterThan(29 * 86_400_000);

    const listed = JSON.parse(ok(await cli('keys', 'list', '--email', trader, '--json')).stdout) as Key[];
    expect(listed.map((k) => k.name).sort()).toEqual(['bot script', 'grafana']);
    for (const key of listed) expect(key).not.toHaveProperty('key');
    expect(ok(await cli('keys', 'list', '--email', trader)).stdout).toContain(`${created.id}  ${created.prefix}…  read_write`);

    expect(ok(await cli('keys', 'revoke', created.id, '--email', trader)).stdout).toBe(
      `Revoked API key ${created.id} "bot script" of ${trader}.\n`,
    );
    expect(ok(await cli('keys', 'revoke', created.id, '--email', trader)).stdout).toContain('was already revoked');
    const after = JSON.parse(ok(await cli('keys', 'list', '--email', trader, '--json')).stdout) as Key[];
    expect(after.find((k) => k.id === created.id)?.revokedAt).not.toBeNull();
  });

  it('refuses bad options with exit 2 and one line naming them; an unknown key of the person is exit 1', async () => {
    const cases: [string[], string][] = [
      [['keys', 'create', '--email', trader, '--name', 'x', '--scope', 'admin'], '--scope must be one of: read, read_write'],
      [['keys', 'create', '--email', 'not-an-email', '--name', 'x'], '--email must be an email address'],
      [['keys', 'create', '--email', trader, '--name', 'x', '--expires-days', 'soon'], '--expires-days must be a whole number of days'],
      [['keys', 'create', '--email', 'nobody@example.com', '--name', 'x'], 'No staff member or trader nobody@example.com.'],
      [['keys', 'list'], '--email must be an email address'],
      [['keys', 'revoke', '123', '--email', trader], '123 is not a key id'],
    ];
    for (const [args, message] of cases) {
      const result = await cli(...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain(message);
    }
    const id = '00000000-0000-4000-8000-000000000000';
    const unknown = await cli('keys', 'revoke', id, '--email', trader);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(`${trader} has no API key ${id}.`);
  });
});
