import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', '.serverless/**', '.packages/**', '.esbuild/**', '.sesflow/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    // The contract test: every HTTP exchange of a test file checked against docs/*.openapi.yaml.
    setupFiles: ['lib/openapi-contract.setup.ts'],
    // Each run's temporary files in one directory, removed at the end (lib/test-tmpdir.global-setup.ts).
    globalSetup: ['lib/test-tmpdir.global-setup.ts'],
  },
});
