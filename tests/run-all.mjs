#!/usr/bin/env node
// `npm test`: typecheck, lint (ESLint), format check (Prettier), unit tests (Vitest), production build,
// end-to-end tests (Playwright in real Chromium against the built app on the embedded engine).
// Ends with one plain line, "N passed, N failed", counted from both suites' reports, plus one test each
// for lint and the format check.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const reports = path.join(root, "reports");
const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

function step(title, command, args, env = {}) {
  console.log(`\n==> ${title}`);
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", env: { ...process.env, ...env } });
  return result.status ?? 1;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

if (!fs.existsSync(chromium)) {
  console.error(
    `No Chromium at ${chromium}. The end-to-end tests drive a real browser and never download one.\n` +
      "On Debian or Ubuntu: sudo apt-get install -y --no-install-recommends chromium\n" +
      "Elsewhere, set CHROMIUM_PATH to a Chromium or Chrome executable.",
  );
  process.exit(1);
}

fs.rmSync(reports, { recursive: true, force: true });
fs.mkdirSync(reports, { recursive: true });

const typecheck = step("typecheck", "npm", ["run", "-s", "typecheck"]);
const lint = step("lint (eslint)", "npm", ["run", "-s", "lint"]);
const formatCheck = step("format check (prettier)", "npm", ["run", "-s", "format:check"]);
const unit = step("unit tests (vitest)", "npx", [
  "vitest",
  "run",
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${path.join(reports, "vitest.json")}`,
]);
const build = step("build", "npm", ["run", "-s", "build"]);
let e2e = 1;
if (build === 0) {
  e2e = step(
    "end-to-end tests (playwright, chromium)",
    "npx",
    ["playwright", "test", "-c", "tests/playwright.config.ts", "--reporter=list,json"],
    {
      CHROMIUM_PATH: chromium,
      E2E_PORT: process.env.E2E_PORT ?? String(await freePort()),
      PLAYWRIGHT_JSON_OUTPUT_NAME: path.join(reports, "playwright.json"),
    },
  );
}

// A suite without a readable report counts as one failure, so a crashed runner never reads as green.
let passed = 0;
let failed = 0;
let skipped = 0;
const vitest = readJson(path.join(reports, "vitest.json"));
if (vitest) {
  passed += vitest.numPassedTests;
  failed += vitest.numFailedTests;
  skipped += (vitest.numPendingTests ?? 0) + (vitest.numTodoTests ?? 0);
} else failed += 1;
const playwright = readJson(path.join(reports, "playwright.json"))?.stats;
if (playwright) {
  passed += playwright.expected + playwright.flaky;
  failed += playwright.unexpected;
  skipped += playwright.skipped;
} else failed += 1;
if (typecheck !== 0) {
  console.log("\ntypecheck failed");
  failed += 1;
}
if (build !== 0) console.log("\nbuild failed");
// Lint and the format check are one test each, whole-codebase checks with no per-file report.
for (const [name, status] of [
  ["lint", lint],
  ["format check", formatCheck],
]) {
  if (status === 0) passed += 1;
  else {
    console.log(`\n${name} failed`);
    failed += 1;
  }
}

console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(typecheck === 0 && unit === 0 && build === 0 && e2e === 0 && failed === 0 ? 0 : 1);
