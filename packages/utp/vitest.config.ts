import { packageTestConfig } from '@bt/vitest-preset'

export default packageTestConfig('@bt/utp', { testTimeout: 60_000 })
