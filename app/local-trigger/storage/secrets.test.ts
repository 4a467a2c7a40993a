import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createFileExclusive } from "./atomic-file.server";
import { isStrongSecret, loadOrCreateSecret, type SecretFileOptions, StartupError } from "./secrets.server";

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "secrets-"));

function options(overrides: Partial<SecretFileOptions> = {}) {
  const log: string[] = [];
  let generated = 0;
  const value: SecretFileOptions = {
    generate: () => `generated-secret-${++generated}-${"x".repeat(32)}`,
    isValid: isStrongSecret(32),
    dependents: () => undefined,
    consequenceOfDeleting: "everything signed with it stops working",
    log: (message) => log.push(message),
    ...overrides,
  };
  return { value, log, generated: () => generated };
}

describe("loadOrCreateSecret", () => {
  it("creates the secret on first use, readable by its owner only, and reads it back after", () => {
    const dir = tempDir();
    const first = loadOrCreateSecret(dir, "key", options().value);
    expect(fs.statSync(path.join(dir, "key")).mode & 0o777).toBe(0o600);
    expect(loadOrCreateSecret(dir, "key", options().value)).toBe(first);
    expect(fs.readdirSync(dir)).toEqual(["key"]);
  });

  it("regenerates an empty, blank or short secret while nothing depends on it, and says so once", () => {
    for (const damaged of ["", "   \n", "short"]) {
      const dir = tempDir();
      fs.writeFileSync(path.join(dir, "key"), damaged);
      const { value, log } = options();
      const secret = loadOrCreateSecret(dir, "key", value);
      expect(secret).toMatch(/^generated-secret-1-/);
      expect(fs.readFileSync(path.join(dir, "key"), "utf8").trim()).toBe(secret);
      expect(log).toEqual([
        expect.stringMatching(/is (empty|damaged); nothing depended on it yet, so a new secret was generated/),
      ]);
    }
  });

  it("refuses, with one line naming the file, to replace a damaged secret that something depends on", () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "key"), "");
    const { value, generated } = options({ dependents: () => "3 chats use it" });
    expect(() => loadOrCreateSecret(dir, "key", value)).toThrow(StartupError);
    expect(() => loadOrCreateSecret(dir, "key", value)).toThrow(
      `The secret file ${path.join(dir, "key")} is empty, and 3 chats use it. Restore it from a backup, or delete it to start with a new secret (everything signed with it stops working).`,
    );
    expect(generated()).toBe(0);
    expect(fs.readFileSync(path.join(dir, "key"), "utf8")).toBe("");
  });

  it("treats a secret file it cannot read as damaged", () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, "key"));
    expect(() => loadOrCreateSecret(dir, "key", options({ dependents: () => "1 chat uses it" }).value)).toThrow(
      /cannot be read \(EISDIR\)/,
    );
    expect(() => loadOrCreateSecret(dir, "key", options().value)).toThrow(
      /cannot be read \(EISDIR\) and could not be replaced/,
    );
  });
});

describe("createFileExclusive", () => {
  it("lets exactly one of two creators win, leaving the winner's content whole", () => {
    const file = path.join(tempDir(), "once");
    expect(createFileExclusive(file, "first")).toBe(true);
    expect(createFileExclusive(file, "second")).toBe(false);
    expect(fs.readFileSync(file, "utf8")).toBe("first");
    expect(fs.readdirSync(path.dirname(file))).toEqual(["once"]);
  });
});
