// One vitest configuration for every package: workspace imports resolve to `src/` through the
// `@bt/source` export condition, so tests never wait for a build. Plain JS because vitest loads
// configs' dependencies from node_modules without transpiling them.
import { defineProject } from 'vitest/config'

const sourceConditions = ['@bt/source', 'node', 'import', 'module', 'default']

/** @type {import('./index.d.ts').packageTestConfig} */
export function packageTestConfig(name, overrides = {}) {
  return defineProject({
    resolve: { conditions: sourceConditions },
    ssr: { resolve: { conditions: sourceConditions, externalConditions: sourceConditions } },
    test: {
      name,
      environment: 'node',
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: overrides.testTimeout ?? 20_000,
      hookTimeout: 60_000,
    },
  })
}
