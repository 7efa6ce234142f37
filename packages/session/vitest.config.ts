import { packageTestConfig } from '@bt/vitest-preset'

// The libtorrent tests wait for whole downloads (each wait bounded at 60 s): more than the default.
export default packageTestConfig('@bt/session', { testTimeout: 120_000 })
