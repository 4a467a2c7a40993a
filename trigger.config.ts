import { defineConfig } from "@trigger.dev/sdk";

export default defineConfig({
  // `trigger dev` and `trigger deploy` take --project-ref or TRIGGER_PROJECT_REF (shell or .env)
  // over this value, and the CLI does not load .env before evaluating this file, so throwing here
  // would break that setup. The fallback is not a real ref: it only shows up in the CLI's
  // "Project not found" error, naming the variable to set.
  project: process.env.TRIGGER_PROJECT_REF ?? "missing-TRIGGER_PROJECT_REF",
  runtime: "node",
  dirs: ["./trigger"],
  maxDuration: 3600,
  retries: {
    enabledInDev: false,
    default: { maxAttempts: 1 },
  },
});
