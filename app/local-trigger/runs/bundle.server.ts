import fs from "node:fs";
import path from "node:path";
import { isProcessAlive } from "../storage/data-folder.server";
import type { WorkerBootData } from "../worker/protocol.server";

export type WorkerBundle = {
  outDir: string;
  workerEntry: string;
  taskModules: WorkerBootData["taskModules"];
  lazyChunks: string[];
};

const WORKER_SOURCE = "app/local-trigger/worker/run-worker.server.ts";

let bundleCount = 0;

function removeBundlesOfDeadProcesses(cacheRoot: string) {
  let entries: string[];
  try {
    entries = fs.readdirSync(cacheRoot);
  } catch {
    return;
  }
  for (const entry of entries) {
    const pid = Number(entry.split("-")[0]);
    if (!Number.isInteger(pid) || pid === process.pid || isProcessAlive(pid)) continue;
    fs.rmSync(path.join(cacheRoot, entry), { recursive: true, force: true });
  }
}

/** Every task module under the project's task dirs, as the Trigger.dev CLI indexes them. */
export function findTaskModules(projectRoot: string, taskDirs: string[]): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.(ts|tsx|js|mjs)$/.test(entry.name) && !/\.(test|spec)\.|\.d\.ts$/.test(entry.name)) found.push(full);
    }
  };
  for (const dir of taskDirs) walk(path.resolve(projectRoot, dir));
  return found.sort();
}

/**
 * Bundles the worker and the project's task modules with esbuild, so a worker
 * thread loads plain ESM (Node 20 worker threads cannot load TypeScript) and
 * boots fast. The output lives under node_modules/.cache so anything left
 * external still resolves from the project's node_modules.
 */
export async function bundleWorker(options: {
  projectRoot: string;
  taskDirs: string[];
  outDir?: string;
}): Promise<WorkerBundle> {
  const { build } = await import("esbuild");
  const projectRoot = path.resolve(options.projectRoot);
  const cacheRoot = path.join(projectRoot, "node_modules", ".cache", "local-trigger");
  if (!options.outDir) removeBundlesOfDeadProcesses(cacheRoot);
  // One directory per engine: several engines (tests, a dev server) can run side by side.
  const outDir = options.outDir
    ? path.resolve(options.outDir)
    : path.join(cacheRoot, `${process.pid}-${++bundleCount}`);
  const taskFiles = findTaskModules(projectRoot, options.taskDirs);
  if (taskFiles.length === 0) throw new Error(`No task modules found in ${options.taskDirs.join(", ")}`);

  const entryPoints: Record<string, string> = { "run-worker": path.join(projectRoot, WORKER_SOURCE) };
  taskFiles.forEach((file, index) => {
    entryPoints[`tasks/${index}-${path.basename(file).replace(/\.[^.]+$/, "")}`] = file;
  });
  fs.rmSync(outDir, { recursive: true, force: true });
  const result = await build({
    entryPoints,
    outdir: outDir,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    // Packages are bundled too: one parsed file instead of hundreds of resolved modules halves a cold boot.
    external: ["esbuild"],
    banner: {
      js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);',
    },
    // Project modules shared by several tasks load once per worker, as they would in one process.
    splitting: true,
    outExtension: { ".js": ".mjs" },
    sourcemap: "linked",
    logLevel: "error",
    tsconfig: path.join(projectRoot, "tsconfig.json"),
    nodePaths: [path.join(projectRoot, "node_modules")],
    metafile: true,
  });
  const outputs = Object.keys(result.metafile.outputs).map((file) => path.resolve(file));
  return {
    outDir,
    workerEntry: path.join(outDir, "run-worker.mjs"),
    taskModules: taskFiles.map((file, index) => ({
      bundlePath: path.join(outDir, "tasks", `${index}-${path.basename(file).replace(/\.[^.]+$/, "")}.mjs`),
      sourcePath: path.relative(projectRoot, file),
    })),
    lazyChunks: outputs.filter((file) => /[\\/]chunk-[^\\/]+\.mjs$/.test(file)),
  };
}
