import fs from "node:fs";
import path from "node:path";
import { createFileExclusive, writeFileAtomic } from "./atomic-file.server";

/** A problem the process cannot start with; its message is one line meant for the operator. */
export class StartupError extends Error {
  override name = "StartupError";
}

export type SecretFileOptions = {
  /** Makes a new secret; called only when the file is absent or unusable. */
  generate: () => string;
  /** Whether a secret read back is usable. Empty and whitespace-only secrets never are. */
  isValid: (secret: string) => boolean;
  /**
   * Whether anything already relies on the current secret (chats signed with
   * it). When so, an unusable file is not silently replaced: that would cut
   * those chats off. Returns a clause saying what depends on it ("3 chats use
   * it"), or undefined when nothing does.
   */
  dependents: () => string | undefined;
  /** What deleting the file costs, for the message that asks the operator to decide. */
  consequenceOfDeleting: string;
  log: (message: string) => void;
};

/**
 * Reads a secret from the data folder, creating it on first use. Secrets are
 * generated, never defaulted, and written atomically, readable by their owner
 * only. An empty, short or unreadable file is never used: it is regenerated
 * when nothing depends on it yet, and otherwise the process refuses to start
 * with one line naming the file.
 */
export function loadOrCreateSecret(dataDir: string, name: string, options: SecretFileOptions): string {
  const file = path.join(dataDir, name);
  const found = readSecret(file);
  if (found.kind === "ok" && options.isValid(found.secret)) return found.secret;

  if (found.kind === "absent") {
    fs.mkdirSync(dataDir, { recursive: true });
    const secret = options.generate();
    if (createFileExclusive(file, `${secret}\n`, 0o600)) return secret;
    // Another process created it first; use theirs, as long as it is usable.
    return loadOrCreateSecret(dataDir, name, options);
  }

  const problem =
    found.kind === "unreadable" ? `cannot be read (${found.code})` : found.secret === "" ? "is empty" : "is damaged";
  const dependents = options.dependents();
  if (dependents) {
    throw new StartupError(
      `The secret file ${file} ${problem}, and ${dependents}. Restore it from a backup, or delete it to start with a new secret (${options.consequenceOfDeleting}).`,
    );
  }
  const secret = options.generate();
  try {
    writeFileAtomic(file, `${secret}\n`, { mode: 0o600 });
  } catch (error) {
    throw new StartupError(
      `The secret file ${file} ${problem} and could not be replaced (${(error as NodeJS.ErrnoException).code ?? String(error)}). Remove it and start again.`,
    );
  }
  options.log(`the secret file ${file} ${problem}; nothing depended on it yet, so a new secret was generated`);
  return secret;
}

type SecretRead = { kind: "ok"; secret: string } | { kind: "absent" } | { kind: "unreadable"; code: string };

function readSecret(file: string): SecretRead {
  try {
    return { kind: "ok", secret: fs.readFileSync(file, "utf8").trim() };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    return code === "ENOENT" ? { kind: "absent" } : { kind: "unreadable", code };
  }
}

/** A secret made of at least `minLength` visible characters. */
export const isStrongSecret = (minLength: number) => (secret: string) =>
  secret.length >= minLength && /^\S+$/.test(secret);
