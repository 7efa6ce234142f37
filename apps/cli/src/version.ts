// The version `bt --version` prints, from package.json at build time.
import packageJson from '../package.json' with { type: 'json' }

export const version: string = packageJson.version
