import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { execOptionsForRuntime } from "@trigger.dev/core/v3/build";
import { afterAll, describe, expect, it } from "vitest";

// `trigger.dev deploy` (and its --dry-run) logs in and asks the API for the project, its build settings and its
// environment variables before it builds anything, so it cannot run without an account and a network. Its build
// and its indexing step can: these are the CLI's own modules that `deploy` runs (the indexing runs inside the
// deployed image), called as the CLI's own end-to-end suite calls them. They are internal, so the import paths
// may move when the CLI is upgraded; the CLI is pinned to an exact version, and this test then fails loudly.
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CLI = path.join(ROOT, "node_modules/trigger.dev/dist/esm");
const fromCli = <T>(file: string) => import(/* @vite-ignore */ pathToFileURL(path.join(CLI, file)).href) as Promise<T>;

type Config = typeof import("../node_modules/trigger.dev/dist/esm/config.js");
type Build = typeof import("../node_modules/trigger.dev/dist/esm/build/buildWorker.js");
type Index = typeof import("../node_modules/trigger.dev/dist/esm/indexing/indexWorkerManifest.js");
type ManifestFile = typeof import("../node_modules/trigger.dev/dist/esm/utilities/buildManifest.js");

const destination = fs.mkdtempSync(path.join(os.tmpdir(), "agent-deploy-build-"));
afterAll(() => fs.rmSync(destination, { recursive: true, force: true }));

describe("the agent's deploy bundle", () => {
  it("builds with the Trigger.dev CLI, and indexing finds the chat agent, offline", { timeout: 180_000 }, async () => {
    const [{ loadConfig }, { buildWorker }, { indexWorkerManifest }, { buildManifestToJSON }] = await Promise.all([
      fromCli<Config>("config.js"),
      fromCli<Build>("build/buildWorker.js"),
      fromCli<Index>("indexing/indexWorkerManifest.js"),
      fromCli<ManifestFile>("utilities/buildManifest.js"),
    ]);
    const resolvedConfig = await loadConfig({ cwd: ROOT, overrides: { project: "proj_offline_build_check" } });
    const manifest = await buildWorker({
      target: "deploy",
      environment: "prod",
      destination,
      resolvedConfig,
      // The paths stay on this machine rather than the image's /app, so the index step can run here.
      rewritePaths: false,
      envVars: {},
      forcedExternals: [],
      plain: true,
    });
    // The CLI takes every source file in the task directory, tests aside.
    const sources = fs
      .readdirSync(path.join(ROOT, "trigger"))
      .filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts"));
    expect(sources).toContain("chat.ts");
    expect(manifest.files.map((file) => file.entry).sort()).toEqual(sources.sort().map((file) => `trigger/${file}`));
    expect(fs.existsSync(path.join(destination, "Containerfile"))).toBe(true);

    // What the deployed image runs before the version goes live: import every task file and list its tasks.
    const manifestPath = path.join(destination, "build.local.json");
    fs.writeFileSync(manifestPath, JSON.stringify(buildManifestToJSON(manifest)));
    const output: string[] = [];
    const worker = await indexWorkerManifest({
      runtime: manifest.runtime,
      indexWorkerPath: manifest.indexWorkerEntryPoint,
      buildManifestPath: manifestPath,
      nodeOptions: execOptionsForRuntime(manifest.runtime, manifest),
      // The agent's environment on Trigger.dev: here none, so it validates its defaults (the offline model).
      env: { PATH: process.env.PATH },
      cwd: destination,
      handleStdout: (data) => output.push(data),
      handleStderr: (data) => output.push(data),
    }).catch((error: unknown) => {
      const importErrors = (error as { importErrors?: unknown }).importErrors;
      throw new Error(`indexing failed: ${String(error)} ${JSON.stringify(importErrors ?? "")}\n${output.join("")}`);
    });
    // "chat" is the task the web server starts sessions of (CHAT_TASK_ID); the agent is not imported here, so that
    // a broken task file fails in the CLI's build or indexing, as it would fail a deploy.
    const tasks = worker.tasks.map((task) => ({ id: task.id, filePath: task.filePath }));
    expect(tasks).toEqual([{ id: "chat", filePath: "trigger/chat.ts" }]);
    expect(worker.tasks[0]).toMatchObject({ maxDuration: 3600, retry: { maxAttempts: 1 } });
  });
});
