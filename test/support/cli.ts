import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { format } from 'node:util';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/botcriptofy.js', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Environment for a CLI run: no inherited settings, only what the test gives. */
export function cliEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  // A developer's own ./.env must not leak into the tests.
  return { PATH: process.env.PATH, HOME: process.env.HOME, LOG_FORMAT: 'json', BOTCRIPTOFY_NO_ENV_FILE: '1', ...extra };
}

/** Runs `botcriptofy ARGS` as a real process, with the Node running the tests. */
export function runCli(args: string[], env: Record<string, string>, timeoutMs = 90_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`botcriptofy ${args.join(' ')} timed out\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts a long-running command and resolves once a stdout line matches `ready`. */
export function startCli(
  args: string[],
  env: Record<string, string>,
  ready: (line: string) => boolean,
  timeoutMs = 60_000,
): Promise<{ child: ChildProcess; line: string; output: () => string; exited: Promise<number | null> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let pending = '';
    const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`not ready in time:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (ready(line)) {
          clearTimeout(timer);
          resolve({ child, line, output: () => output, exited });
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before ready:\n${output}`));
    });
  });
}

/** The product's settings, as `.env.example` lists them: what a command run here must not inherit. */
const productVariables: readonly string[] = fs
  .readFileSync(new URL('../../.env.example', import.meta.url), 'utf8')
  .split('\n')
  .map((line) => /^#?\s*([A-Z][A-Z0-9_]*)=/.exec(line)?.[1])
  .filter((name): name is string => name !== undefined);

let inProcessQueue: Promise<unknown> = Promise.resolve();

/**
 * Runs `botcriptofy ARGS` inside the test process: the same `main()` the binary calls, with
 * the environment given (the product's variables cleared first), its stdout and stderr
 * captured and its exit code read. A command's modules are loaded once per test file instead
 * of once per run (two seconds of start-up each). What only a process shows — that it exits,
 * signals, the Node hand-over in bin/ — stays with `runCli`.
 */
export function runCliHere(args: string[], env: Record<string, string>): Promise<CliResult> {
  const run = inProcessQueue.then(() => runMain(args, env));
  inProcessQueue = run.catch(() => {});
  return run;
}

async function runMain(args: string[], env: Record<string, string>): Promise<CliResult> {
  const { main } = await import('../../cli/main.ts');
  const saved = new Map<string, string | undefined>();
  const wanted: Record<string, string> = { LOG_FORMAT: 'json', BOTCRIPTOFY_NO_ENV_FILE: '1', ...env };
  for (const name of new Set([...productVariables, ...Object.keys(wanted)])) {
    saved.set(name, process.env[name]);
    if (wanted[name] === undefined) delete process.env[name];
    else process.env[name] = wanted[name];
  }
  let stdout = '';
  let stderr = '';
  const toStdout = (...parts: unknown[]) => {
    stdout += `${format(...parts)}\n`;
  };
  const toStderr = (...parts: unknown[]) => {
    stderr += `${format(...parts)}\n`;
  };
  const original = {
    log: console.log,
    info: console.info,
    error: console.error,
    warn: console.warn,
    out: process.stdout.write,
    err: process.stderr.write,
  };
  console.log = toStdout;
  console.info = toStdout;
  console.error = toStderr;
  console.warn = toStderr;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  }) as typeof process.stderr.write;
  const exitCodeBefore = process.exitCode;
  process.exitCode = undefined;
  try {
    await main(['node', BIN, ...args]);
    return { code: Number(process.exitCode ?? 0), stdout, stderr };
  } finally {
    process.exitCode = exitCodeBefore;
    Object.assign(console, { log: original.log, info: original.info, error: original.error, warn: original.warn });
    process.stdout.write = original.out;
    process.stderr.write = original.err;
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}
