import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { defineConfig, devices } from "@playwright/test";
import { e2eTarget } from "./e2e/target";

const PORT = Number(process.env.E2E_PORT ?? 3123);
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
// With E2E_BASE_URL, the suite tests that app and starts no server of its own (see e2e/target.ts).
const DEPLOYMENT = e2eTarget.deploymentURL;

// A fresh engine data folder per run, for the suite's own server. The config is evaluated again in
// every worker; the environment variable carries the first evaluation's folder to them.
const localDataDir = () => (process.env.E2E_DATA_DIR ??= fs.mkdtempSync(path.join(os.tmpdir(), "chat-e2e-")));

export default defineConfig({
  testDir: "./e2e",
  // *.test.ts files beside the specs are Vitest's.
  testMatch: "**/*.spec.ts",
  // A deployment answers with a real model, over a real network.
  timeout: DEPLOYMENT ? 120_000 : 60_000,
  expect: { timeout: 15_000 },
  forbidOnly: !!process.env.CI,
  retries: process.env.CI ? 1 : 0,
  workers: 1,
  // The JSON report path is taken from where the runner was started, not from this folder.
  reporter: process.env.PLAYWRIGHT_JSON_OUTPUT_NAME
    ? [["list"], ["json", { outputFile: path.resolve(process.env.PLAYWRIGHT_JSON_OUTPUT_NAME) }]]
    : [["list"]],
  use: {
    baseURL: DEPLOYMENT ?? `http://127.0.0.1:${PORT}`,
    trace: "off",
    launchOptions: {
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [
    { name: "chromium", use: { ...devices["Desktop Chrome"] } },
    // Rewrites public/screenshot.png for the README, so only on request:
    // UPDATE_SCREENSHOT=1 npx playwright test -c tests/playwright.config.ts --project=screenshot
    ...(process.env.UPDATE_SCREENSHOT
      ? [
          {
            name: "screenshot",
            testMatch: "readme-screenshot.ts",
            use: { ...devices["Desktop Chrome"], viewport: { width: 1280, height: 800 } },
          },
        ]
      : []),
  ],
  ...(DEPLOYMENT ? { globalSetup: "./e2e/deployment.setup.ts" } : {}),
  webServer: DEPLOYMENT
    ? undefined
    : {
        // The production server over the built app (`npm run build` first), with its embedded engine.
        command: "npm start",
        cwd: "..",
        url: `http://127.0.0.1:${PORT}/`,
        reuseExistingServer: false,
        timeout: 120_000,
        env: {
          ...process.env,
          PORT: String(PORT),
          HOST: "127.0.0.1",
          LOCAL_TRIGGER_DATA_DIR: localDataDir(),
          // The offline model, paced so that mid-stream stops and reloads are observable.
          OFFLINE_MODEL_DELAY_MS: "40",
          CHAT_MODEL: "offline:offline-chat",
          TRIGGER_SECRET_KEY: "",
          LOCAL_TRIGGER: "",
        },
      },
});
