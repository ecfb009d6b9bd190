// What every command shares about its flags: strict parsing, and one error for usage mistakes
// (the command prints it with its usage and exits 2).
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

export class UsageError extends Error {}

/** Strict parseArgs without positionals; an unknown or malformed flag becomes a UsageError. */
export function parseCommandFlags<const T extends ParseArgsOptionsConfig>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
