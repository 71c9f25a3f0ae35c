// Start-up caches for bin/botcriptofy.js: what Node would otherwise redo on every command.
//
// Node runs the TypeScript sources by stripping their types (amaro, a WebAssembly build of swc)
// and compiling the result. On a 2-core machine a file backtest spent most of its start there:
// loading amaro alone costs more than the whole backtest, and Node 22 caches neither step.
// So, before the CLI is imported:
//
// - **Stripped sources** (a `module.registerHooks` load hook): each project .ts file's
//   JavaScript is kept in `<cache>/ts/`, one file per source path, with the SHA-256 of the
//   source it came from. A source whose hash differs (any edit) is stripped again and its entry
//   rewritten, so an entry is never stale and the folder never holds more than one entry per
//   source file. On a hit amaro is never loaded. The module keeps its .ts URL, so
//   `import.meta.url`, stack traces and the module recorder of the tests are unchanged, and
//   stripping keeps every position (types become spaces), so lines and columns stay right.
// - **Compiled code** (`module.enableCompileCache`): V8's code cache of every module, Node's own
//   mechanism, checked by Node against the source it compiles.
//
// The cache lives in node_modules/.cache/botcriptofy, or in the system's temporary folder when
// that cannot be written (a read-only image); it can be deleted at any time. Nothing here is
// needed for a command to work: any failure leaves Node to strip and compile as before.
// BOTCRIPTOFY_NO_START_CACHE=1 turns both off (NODE_DISABLE_COMPILE_CACHE=1 only V8's);
// BOTCRIPTOFY_START_CACHE_DIR=DIR puts the cache elsewhere (the tests and the benchmark do).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import module from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Bumped when an entry's layout changes; Node's version is part of the key too (its stripper may change). */
const FORMAT = 1;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ROOT_URL = new URL('..', import.meta.url).href;
const NODE_MODULES_URL = `${ROOT_URL}node_modules/`;

/**
 * BOTCRIPTOFY_START_CACHE_DIR when set, else the first writable of node_modules/.cache/botcriptofy
 * and the system's temporary folder; undefined when none can be written.
 */
export function startCacheDir() {
  const chosen = process.env.BOTCRIPTOFY_START_CACHE_DIR;
  const candidates = chosen
    ? [chosen]
    : [
        path.join(ROOT, 'node_modules', '.cache', 'botcriptofy'),
        path.join(os.tmpdir(), `botcriptofy-cache-${typeof process.getuid === 'function' ? process.getuid() : 'user'}`),
      ];
  for (const dir of candidates) {
    try {
      fs.mkdirSync(dir, { recursive: true });
      fs.accessSync(dir, fs.constants.W_OK);
      return dir;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

/** The entry of a source's stripped JavaScript: the JavaScript, then a last line with the key it was made for. */
const trailer = (key) => `\n// botcriptofy-strip ${key}\n`;

/** `source` (a .ts module's text) without its types: the cached copy when its key matches, else stripped now and stored. */
export function strippedSource(dir, url, source) {
  const key = createHash('sha256').update(`${FORMAT}\0${process.version}\0`).update(source).digest('hex');
  const entry = path.join(dir, 'ts', `${createHash('sha256').update(url).digest('hex').slice(0, 32)}.js`);
  const end = trailer(key);
  try {
    const cached = fs.readFileSync(entry, 'utf8');
    if (cached.endsWith(end)) return cached;
  } catch {
    // no entry yet
  }
  const code = `${stripQuietly(source)}${end}`;
  try {
    fs.mkdirSync(path.dirname(entry), { recursive: true });
    // Written whole, then renamed: a reader sees the old entry or the new one, never half of one.
    const temporary = `${entry}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, code);
    fs.renameSync(temporary, entry);
  } catch {
    // an unwritable cache costs the next run the stripping again, nothing else
  }
  return code;
}

/** module.stripTypeScriptTypes without its ExperimentalWarning (the same stripper Node runs on a .ts import). */
function stripQuietly(source) {
  const emitWarning = process.emitWarning;
  process.emitWarning = (warning, ...rest) => {
    const type = typeof rest[0] === 'string' ? rest[0] : rest[0]?.type;
    if (type === 'ExperimentalWarning' && String(warning).includes('stripTypeScriptTypes')) return;
    emitWarning.call(process, warning, ...rest);
  };
  try {
    return module.stripTypeScriptTypes(source, { mode: 'strip' });
  } finally {
    process.emitWarning = emitWarning;
  }
}

/**
 * The commands that keep running (a server, a worker): they start once, so V8's code cache buys
 * them little, and it costs them for good — the `start` process's resident memory on the demo
 * company was 30–40 MB higher with it (BENCHMARKS.md, "The start process's memory").
 */
export const LONG_RUNNING_COMMANDS = new Set(['start', 'worker']);

/**
 * Turns both caches on for this process (and, through NODE_COMPILE_CACHE, not for its children).
 * With `compiledCode: false` only the stripped sources (V8's code cache stays off). Returns the folder, if any.
 */
export function enableStartCache({ compiledCode = true } = {}) {
  if (process.env.BOTCRIPTOFY_NO_START_CACHE === '1') return undefined;
  if (typeof module.registerHooks !== 'function' || typeof module.stripTypeScriptTypes !== 'function') return undefined;
  const dir = startCacheDir();
  if (dir === undefined) return undefined;
  if (compiledCode) module.enableCompileCache?.(path.join(dir, 'v8'));
  module.registerHooks({
    load(url, context, nextLoad) {
      const result = nextLoad(url, context);
      // Only the project's own TypeScript: packages are JavaScript already.
      if (result.format !== 'module-typescript' || !url.startsWith(ROOT_URL) || url.startsWith(NODE_MODULES_URL)) return result;
      try {
        const source = typeof result.source === 'string' ? result.source : Buffer.from(result.source).toString('utf8');
        return { ...result, format: 'module', source: strippedSource(dir, url, source) };
      } catch {
        return result; // Node strips it itself, and reports a syntax error its own way
      }
    },
  });
  return dir;
}
