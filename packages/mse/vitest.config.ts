import { packageTestConfig } from '@bt/vitest-preset'

export default packageTestConfig('@bt/mse')
