import type { ViteUserConfig } from 'vitest/config'

export function packageTestConfig(name: string, overrides?: { testTimeout?: number }): ViteUserConfig
