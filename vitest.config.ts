import { defineConfig } from "vitest/config";
import { highlightAliases } from "./vite.config";

// Separate from vite.config.ts so Vitest neither loads the React Router plugin
// nor collects the Playwright specs in tests/e2e.
export default defineConfig({
  plugins: [highlightAliases()],
  resolve: { tsconfigPaths: true },
  test: {
    include: ["app/**/*.test.{ts,tsx}", "trigger/**/*.test.{ts,tsx}", "tests/**/*.test.ts"],
    environment: "node",
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
