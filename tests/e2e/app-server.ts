import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../../app/local-trigger/testing/free-port";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
// The server binary itself rather than `npm start`, so a SIGKILL reaches the process that holds the engine.
const SERVER = path.join(ROOT, "build/server.js");
const BOOT_TIMEOUT_MS = 60_000;

/**
 * A production server of the built app (`npm run build` first) on its own
 * port and data folder, for tests that kill and restart it. The shared
 * server from playwright.config.ts is never touched.
 */
export class AppServer {
  private child: ChildProcess | undefined;
  private log = "";

  private constructor(
    readonly port: number,
    readonly dataDir: string,
    private readonly wordDelayMs: number,
    private readonly env: Record<string, string>,
    private readonly readyPath: string,
  ) {}

  /**
   * `wordDelayMs` paces the offline model: 40 ms makes mid-stream events observable. `env` adds to or overrides
   * the server's environment. `readyPath` is where a 200 means the server has started: "/" by default, which
   * needs chats to work; "/healthz" for a server whose backend is down on purpose.
   */
  static async start(options: { wordDelayMs?: number; env?: Record<string, string>; readyPath?: string } = {}) {
    const { wordDelayMs = 40, env = {}, readyPath = "/" } = options;
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "chat-e2e-server-"));
    const server = new AppServer(await freePort(), dataDir, wordDelayMs, env, readyPath);
    await server.start();
    return server;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The server's process id while it runs, for benchmarks that read its CPU time. */
  get pid() {
    return this.child?.pid;
  }

  /** What the server printed, for a failure message. */
  output() {
    return this.log;
  }

  /** Starts the server, on the same port and data folder as before if it ran already, and waits until it serves pages. */
  async start() {
    if (this.child) throw new Error("the server is already running");
    const child = spawn(process.execPath, [SERVER], {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: "production",
        PORT: String(this.port),
        HOST: "127.0.0.1",
        LOCAL_TRIGGER_DATA_DIR: this.dataDir,
        OFFLINE_MODEL_DELAY_MS: String(this.wordDelayMs),
        CHAT_MODEL: "offline:offline-chat",
        TRIGGER_SECRET_KEY: "",
        LOCAL_TRIGGER: "",
        ...this.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    child.stdout!.on("data", (chunk: Buffer) => (this.log += chunk));
    child.stderr!.on("data", (chunk: Buffer) => (this.log += chunk));
    let exited = false;
    child.once("exit", () => (exited = true));

    const deadline = Date.now() + BOOT_TIMEOUT_MS;
    for (;;) {
      if (exited) throw new Error(`the server exited while starting:\n${this.log}`);
      // "/" redirects to a new chat, whose page needs the engine: a 200 there means chats work.
      const response = await fetch(`${this.url}${this.readyPath}`).catch(() => undefined);
      if (response?.ok) return;
      if (Date.now() > deadline) throw new Error(`the server did not start within ${BOOT_TIMEOUT_MS / 1000} s:\n${this.log}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** SIGKILL, as a crash or an out-of-memory kill would: no shutdown code runs. */
  async kill() {
    await this.signal("SIGKILL");
  }

  /** Sends a signal, and resolves with how the process ended. Its data folder is kept until `close`. */
  async exitOn(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) throw new Error("the server is not running");
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once("exit", (code, signal) => resolve({ code, signal })),
    );
    child.kill(signal);
    const result = await exited;
    this.child = undefined;
    return result;
  }

  /** Stops the server, if it runs, and deletes its data folder. */
  async close() {
    await this.signal("SIGTERM");
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }

  private async signal(signal: NodeJS.Signals) {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill(signal);
    await exited;
  }
}

