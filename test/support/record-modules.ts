// Loaded with `node --import` (test/cli/lazy-start.test.ts): records the URL of every module the
// process resolves — ES imports and require() alike (module.registerHooks, Node ≥ 22.15) — and
// writes them, one a line, to RECORD_MODULES_FILE when the process exits.
import fs from 'node:fs';
import { registerHooks } from 'node:module';

const file = process.env.RECORD_MODULES_FILE;
if (!file) throw new Error('RECORD_MODULES_FILE is not set');
const seen = new Set<string>();
registerHooks({
  resolve(specifier, context, nextResolve) {
    const result = nextResolve(specifier, context);
    seen.add(result.url);
    return result;
  },
});
process.on('exit', () => fs.writeFileSync(file, `${[...seen].join('\n')}\n`));
