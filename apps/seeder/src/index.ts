export { DemoError, SeederError, type SeederErrorCode } from './errors.js'
export { type LocalTracker, type LocalTrackerInit, startLocalTracker } from './local-tracker.js'
export { type Seeder, type SeederInit, startSeeder } from './seeder.js'
