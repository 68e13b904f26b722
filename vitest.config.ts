import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // PostgreSQL tests share one cluster; files run in parallel but each uses its own schema.
    pool: 'forks',
  },
});
