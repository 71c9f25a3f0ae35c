import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, configuredSecrets, envSchema, loadConfig, redactUrl } from '../config/index.ts';

describe('configuration from the environment', () => {
  it('has working defaults with nothing set', () => {
    const config = loadConfig({}, '/srv/app');
    expect(config.http).toEqual({ host: '127.0.0.1', port: 3000 });
    expect(config.dataDir).toBe(path.resolve('/srv/app', 'data'));
    expect(config.database.url).toBeUndefined();
    expect(config.masterKey).toBeUndefined();
    expect(config.demoSeed).toBe(true);
    expect(config.log.level).toBe('info');
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '  ' }).http.port).toBe(3000);
  });

  it('parses every kind of value', () => {
    const key = 'ab'.repeat(32);
    const config = loadConfig({
      PORT: '8080',
      DATA_DIR: '/var/lib/bcf',
      DATABASE_URL: 'postgres://u:p@db:5432/bcf',
      MASTER_KEY: key,
      DEMO_SEED: 'off',
      LOG_FORMAT: 'json',
    });
    expect(config.http.port).toBe(8080);
    expect(config.dataDir).toBe('/var/lib/bcf');
    expect(config.database.url).toBe('postgres://u:p@db:5432/bcf');
    expect(config.masterKey?.toString('hex')).toBe(key);
    expect(config.demoSeed).toBe(false);
    expect(config.log.format).toBe('json');
  });

  it('accepts a base64 master key', () => {
    const key = Buffer.alloc(32, 7);
    expect(loadConfig({ MASTER_KEY: key.toString('base64') }).masterKey).toEqual(key);
  });

  it('names the variable, the value and what is expected for each wrong value', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', DEMO_SEED: 'maybe' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain('PORT="eighty": expected an integer port');
    expect(message).toMatch(/LOG_LEVEL="loud": .*fatal.*silent/);
    expect(message).toContain('DEMO_SEED="maybe": expected true or false');
    expect((error as ConfigError).problems).toHaveLength(3);
  });

  it("reads the HTTP API's limits and CORS origins, and names a wrong origin", () => {
    expect(loadConfig({}).api).toEqual({
      perCredentialPerMinute: 1200,
      perAddressPerMinute: 2400,
      maxBodyBytes: 1048576,
      maxUploadBytes: 52428800,
      corsOrigins: [],
      // Better-Auth's sign-ins per address a minute: 5 unless raised (the browser tests' server).
      signInsPerAddressPerMinute: 5,
      signUp: true,
    });
    const config = loadConfig({
      API_RATE_LIMIT_PER_MINUTE: '60',
      API_CORS_ORIGINS: 'https://app.example.com/, http://localhost:5173',
      API_MAX_BODY_BYTES: '2048',
      API_MAX_UPLOAD_BYTES: '1048576',
      AUTH_SIGN_IN_LIMIT_PER_MINUTE: '100',
      AUTH_SIGN_UP: 'closed',
    });
    expect(config.api).toMatchObject({
      perCredentialPerMinute: 60,
      signInsPerAddressPerMinute: 100,
      signUp: false,
      maxBodyBytes: 2048,
      maxUploadBytes: 1048576,
      corsOrigins: ['https://app.example.com', 'http://localhost:5173'],
    });
    expect(() => loadConfig({ API_CORS_ORIGINS: 'app.example.com' })).toThrow(
      /API_CORS_ORIGINS="app.example.com": expected origins such as/,
    );
    expect(() => loadConfig({ API_RATE_LIMIT_PER_MINUTE: '0' })).toThrow('API_RATE_LIMIT_PER_MINUTE="0": expected at least 1');
    expect(() => loadConfig({ AUTH_SIGN_IN_LIMIT_PER_MINUTE: '0' })).toThrow('AUTH_SIGN_IN_LIMIT_PER_MINUTE="0": expected at least 1');
    expect(() => loadConfig({ AUTH_SIGN_IN_LIMIT_PER_MINUTE: 'lots' })).toThrow(
      'AUTH_SIGN_IN_LIMIT_PER_MINUTE="lots": expected a number of sign-ins a minute',
    );
  });

  it('rejects out-of-range numbers', () => {
    expect(() => loadConfig({ PORT: '70000' })).toThrow('PORT="70000": expected a port between 0 and 65535');
  });

  it('keeps security events at least the 6 months Marco Civil (art. 15) requires of access logs', () => {
    expect(() => loadConfig({ RETENTION_SECURITY_EVENTS_DAYS: '1' })).toThrow(
      /^Invalid configuration:\n {2}RETENTION_SECURITY_EVENTS_DAYS="1": expected at least 180 days: sign-in events with IP and time are access logs, which Brazil's Marco Civil da Internet \(art\. 15\) requires keeping for 6 months$/,
    );
    expect(() => loadConfig({ RETENTION_SECURITY_EVENTS_DAYS: '179' })).toThrow(
      /RETENTION_SECURITY_EVENTS_DAYS="179": expected at least 180 days/,
    );
    expect(loadConfig({ RETENTION_SECURITY_EVENTS_DAYS: '180' }).retention.securityEventsDays).toBe(180);
    // The other schedules keep their floor of a day.
    expect(loadConfig({ RETENTION_AGENT_CONVERSATIONS_DAYS: '1' }).retention.agentConversationsDays).toBe(1);
  });

  it('never echoes secrets in its errors', () => {
    const message = (() => {
      try {
        loadConfig({ MASTER_KEY: 'not-a-real-key-but-secret', DATABASE_URL: 'mysql://root:hunter2@db/x' });
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    })();
    expect(message).toContain('MASTER_KEY=');
    expect(message).toContain('expected 32 bytes');
    expect(message).not.toContain('not-a-real-key-but-secret');
    expect(message).toContain('DATABASE_URL="mysql://root:***@db/x": expected a postgres:// or postgresql:// URL');
    expect(message).not.toContain('hunter2');
  });

  it('redacts passwords in URLs', () => {
    expect(redactUrl('postgres://user:s3cret@host:5432/db')).toBe('postgres://user:***@host:5432/db');
    expect(redactUrl('postgres://host/db')).toBe('postgres://host/db');
  });

  it("reads the agents' tool mode, per agent too, and rejects anything else", () => {
    expect(loadConfig({}).ollama).toMatchObject({ toolMode: 'structured', agentToolModes: {} });
    expect(loadConfig({ AGENT_TOOL_MODE: 'structured', AGENT_TOOL_MODES: 'ceo=native, finance=structured' }).ollama).toMatchObject({
      toolMode: 'structured',
      agentToolModes: { ceo: 'native', finance: 'structured' },
    });
    expect(() => loadConfig({ AGENT_TOOL_MODE: 'json' })).toThrow('AGENT_TOOL_MODE="json": expected native or structured');
    expect(() => loadConfig({ AGENT_TOOL_MODES: 'ceo=grammar' })).toThrow(
      /AGENT_TOOL_MODES="ceo=grammar": expected agent=native\|structured pairs/,
    );
  });

  it('lists the configured secrets for the answer gate, passwords inside URLs included', () => {
    const key = Buffer.alloc(32, 7);
    const secrets = configuredSecrets(
      loadConfig({
        STRIPE_SECRET_KEY: 'sk_test_abcdefgh12345678',
        TELEGRAM_BOT_TOKEN: '123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        DATABASE_URL: 'postgres://app:s3cr3t-pass@db/app',
        MASTER_KEY: key.toString('hex'),
      }),
    );
    expect(secrets).toEqual(
      expect.arrayContaining([
        'sk_test_abcdefgh12345678',
        '123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ',
        's3cr3t-pass',
        key.toString('hex'),
        key.toString('base64'),
      ]),
    );
  });
});

describe('.env.example', () => {
  it('lists every setting the program reads, each with its default (or empty when it has none)', () => {
    const text = fs.readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
    const lines = new Map(
      text
        .split('\n')
        .filter((line) => /^[A-Z_]+=/.test(line))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    const defaults = envSchema.parse({});
    for (const key of Object.keys(envSchema.shape)) {
      expect(lines.has(key), `${key} missing from .env.example`).toBe(true);
      const fallback = (defaults as Record<string, unknown>)[key];
      expect(lines.get(key), key).toBe(fallback === undefined ? '' : String(fallback));
    }
    expect([...lines.keys()].filter((key) => !(key in envSchema.shape))).toEqual([]);
  });
});

describe('rules across variables and values only the machine can judge, checked before anything is touched', () => {
  it('refuses a webhook without its secret, an address that is none, and a DATA_DIR that is a file — all at once', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bcf-config-'));
    fs.writeFileSync(path.join(dir, 'afile'), 'x');
    let error: unknown;
    try {
      loadConfig({ TELEGRAM_WEBHOOK_URL: 'https://bot.example.com/telegram/webhook', HOST: '999.1.1.1', DATA_DIR: 'afile' }, dir);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable)).toEqual(['TELEGRAM_WEBHOOK_SECRET', 'HOST', 'DATA_DIR']);
    expect((error as Error).message).toContain(
      `DATA_DIR="afile": expected a folder (or a path to create one), but ${path.join(dir, 'afile')} is a file`,
    );
    for (const host of ['127.0.0.1', '0.0.0.0', '::', '::1', 'localhost', 'api.example.com', 'my-host'])
      expect(loadConfig({ HOST: host }, dir).http.host).toBe(host);
    for (const host of ['999.1.1.1', '1.2.3', 'bad_host', '-x.com'])
      expect(() => loadConfig({ HOST: host }, dir), host).toThrow(ConfigError);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
