import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { RemoteTrigger } from "./app-server";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BOOT_TIMEOUT_MS = 90_000;
const LISTENING = /listening on (http:\/\/127\.0\.0\.1:\d+) with tasks:/;

/**
 * The engine started alone, as `npm run engine` does (app/local-trigger/cli.ts),
 * on a loopback port the system picks and with its own data folder: a stand-in
 * for Trigger.dev on a foreign origin, running the project's real agent with
 * the offline model. Hand `remote` to `AppServer.start` to point an app at it.
 */
export class StandaloneEngine {
  private log = "";
  private listeningOn = "";

  private constructor(
    private readonly child: ChildProcess,
    readonly dataDir: string,
  ) {
    child.stdout!.on("data", (chunk: Buffer) => (this.log += chunk));
    child.stderr!.on("data", (chunk: Buffer) => (this.log += chunk));
  }

  /** `wordDelayMs` paces the offline model: 40 ms makes mid-stream events observable. */
  static async start({ wordDelayMs = 40 }: { wordDelayMs?: number } = {}): Promise<StandaloneEngine> {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "chat-e2e-engine-"));
    // The CLI itself rather than `npm run engine`, so SIGTERM reaches the process that holds the data folder.
    const child = spawn(process.execPath, ["--import", "tsx", "app/local-trigger/cli.ts"], {
      cwd: ROOT,
      env: {
        ...process.env,
        LOCAL_TRIGGER_HOST: "127.0.0.1",
        LOCAL_TRIGGER_PORT: "0",
        LOCAL_TRIGGER_DATA_DIR: dataDir,
        LOCAL_TRIGGER_TASK_DIRS: "trigger",
        CHAT_MODEL: "offline:offline-chat",
        OFFLINE_MODEL_DELAY_MS: String(wordDelayMs),
        GOOGLE_GENERATIVE_AI_API_KEY: "",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const engine = new StandaloneEngine(child, dataDir);
    try {
      await engine.untilListening();
    } catch (error) {
      await engine.close();
      throw error;
    }
    return engine;
  }

  /** Waits for the line the CLI prints once it serves, which names the port the system picked. */
  private async untilListening() {
    const deadline = Date.now() + BOOT_TIMEOUT_MS;
    for (;;) {
      const match = LISTENING.exec(this.log);
      if (match) {
        this.listeningOn = match[1]!;
        return;
      }
      const exit = this.child.exitCode ?? this.child.signalCode;
      if (exit !== null) throw new Error(`the engine exited (${exit}) while starting:\n${this.log}`);
      if (Date.now() > deadline) {
        throw new Error(`the engine did not start within ${BOOT_TIMEOUT_MS / 1000} s:\n${this.log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The engine's API URL, as TRIGGER_API_URL takes it. */
  get url() {
    return this.listeningOn;
  }

  get origin() {
    return new URL(this.url).origin;
  }

  /** The secret key the engine generated into its data folder on first start, as Trigger.dev hands one out. */
  get secretKey() {
    return fs.readFileSync(path.join(this.dataDir, "secret-key"), "utf8").trim();
  }

  /** What an app needs to treat this engine as its Trigger.dev. */
  get remote(): RemoteTrigger {
    return { apiURL: this.url, secretKey: this.secretKey };
  }

  /** What the engine printed, for a failure message. */
  output() {
    return this.log;
  }

  /** Stops the engine and deletes its data folder. */
  async close() {
    const child = this.child;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}
