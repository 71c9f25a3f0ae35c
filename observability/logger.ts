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
export function createLogger(
  config: Pick<Config, 'log'>,
  options: { stream?: 'stdout' | 'stderr'; destination?: NodeJS.WritableStream } = {},
): Logger {
  const { stream = 'stdout', destination } = options;
  const fd = stream === 'stdout' ? 1 : 2;
  const pretty =
    config.log.format === 'pretty' ||
    (config.log.format === 'auto' && destination === undefined && (fd === 1 ? process.stdout.isTTY : process.stderr.isTTY));
  const pinoOptions = {
    level: config.log.level,
    redact: { paths: redactPaths, censor: '[redacted]' },
    base: { service: 'botcriptofy' },
  };
  if (pretty) {
    return pino({
      ...pinoOptions,
      transport: {
        target: 'pino-pretty',
        options: { destination: fd, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' },
      },
    });
  }
  return pino(pinoOptions, (destination as pino.DestinationStream | undefined) ?? pino.destination({ fd, sync: fd === 2 }));
}
