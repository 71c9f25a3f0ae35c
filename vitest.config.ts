import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The soak loads the whole machine for minutes: it runs on its own afterwards
    // (vitest.soak.config.ts), so neither it nor the real-time tests disturb each other.
    exclude: ['test/soak.test.ts', '**/node_modules/**'],
    reporters: ['default', './test/support/summary-reporter.ts'],
    // Embedded PostgreSQL needs a few seconds to initialise; process-level tests start the CLI.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    // Test files share their worker process (one after another): the product's modules load
    // once per worker, not once per file (about a fifth of the suite's CPU time). Files leave
    // nothing global behind: each opens and closes its own databases, servers and metrics
    // registries, and runCliHere restores the environment it changed.
    isolate: false,
  },
});
