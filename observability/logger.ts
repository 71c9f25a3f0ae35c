import { pino, type Logger } from 'pino';
import type { Config } from '../config/index.ts';

export type { Logger } from 'pino';

/** Keys whose values are replaced before a log line is written, wherever they appear. */
const redactPaths = [
  'password',
  'apiKey',
  'apiSecret',
  'secret',
  'token',
  'masterKey',
  'authorization',
  '*.password',
  '*.apiKey',
  '*.apiSecret',
  '*.secret',
  '*.token',
  '*.masterKey',
  '*.authorization',
];

/**
 * Pretty, human logs on a terminal; one JSON object per line otherwise (files, containers,
 * CI), so log shippers can parse them.
 */
export function createLogger(config: Pick<Config, 'log'>, destination?: NodeJS.WritableStream): Logger {
  const pretty =
    config.log.format === 'pretty' || (config.log.format === 'auto' && destination === undefined && process.stdout.isTTY);
  const options = {
    level: config.log.level,
    redact: { paths: redactPaths, censor: '[redacted]' },
    base: { service: 'botcriptofy' },
  };
  if (pretty) {
    return pino({
      ...options,
      transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' } },
    });
  }
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}
