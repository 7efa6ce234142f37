// `--encryption`: client-core's MSE policy for the commands that dial and accept peers.
import { ENCRYPTION_POLICIES, type EncryptionPolicy, isEncryptionPolicy } from '@bt/client-core'
import { type Command, InvalidArgumentError } from 'commander'

/** `--encryption`: one of client-core's policies. */
export function parseEncryption(text: string): EncryptionPolicy {
  if (!isEncryptionPolicy(text)) {
    throw new InvalidArgumentError(`'${text}' is not one of ${ENCRYPTION_POLICIES.join(', ')}.`)
  }
  return text
}

export interface EncryptionOptionValues {
  encryption: EncryptionPolicy
}

export function addEncryptionOption(command: Command): Command {
  return command.option(
    '--encryption <policy>',
    'message stream encryption (MSE/PE): prefer (try encrypted, fall back to plain), require ' +
      '(encrypted only, RC4, both ways), allow (dial plain, accept both), off (plain only)',
    parseEncryption,
    'prefer',
  )
}
