import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../../app/local-trigger/testing/free-port";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
// The server binary itself rather than `npm start`, so a SIGKILL reaches the process that holds the engine.
const SERVER = path.join(ROOT, "build/server.js");
const BOOT_TIMEOUT_MS = 60_000;

/** Where a server in remote mode finds Trigger.dev: its API URL and a secret key it accepts. */
export type RemoteTrigger = { apiURL: string; secretKey: string };

export type AppServerOptions = {
  /** Paces the offline model of the embedded engine: 40 ms makes mid-stream events observable. */
  wordDelayMs?: number;
  /**
   * Runs the server in remote mode, as in production: the server SDK and the browser talk to this
   * Trigger.dev over the network, and no engine runs in the server. The model is then the remote's.
   */
  remote?: RemoteTrigger;
  /** Added to the server's environment last, so it can override any of it (another model and its key). */
  env?: Record<string, string>;
  /**
   * Where a 200 means the server has started: "/" by default, which needs chats to work; "/healthz" for a
   * server whose backend is down on purpose.
   */
  readyPath?: string;
};

/**
 * A production server of the built app (`npm run build` first) on its own
 * port and data folder, for tests that kill and restart it or need another
 * configuration. The shared server from playwright.config.ts is never touched.
 */
export class AppServer {
  private child: ChildProcess | undefined;
  private log = "";
  // One per server, so the guest cookies it signed stay valid across a restart.
  private readonly sessionSecret = randomBytes(32).toString("hex");

  private constructor(
    readonly port: number,
    readonly dataDir: string,
    private readonly options: AppServerOptions,
  ) {}

  static async start(options: AppServerOptions = {}) {
    const server = new AppServer(await freePort(), fs.mkdtempSync(path.join(os.tmpdir(), "chat-e2e-server-")), options);
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
      env: this.environment(),
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
      const response = await fetch(`${this.url}${this.options.readyPath ?? "/"}`).catch(() => undefined);
      if (response?.ok) return;
      if (Date.now() > deadline)
        throw new Error(`the server did not start within ${BOOT_TIMEOUT_MS / 1000} s:\n${this.log}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private environment(): NodeJS.ProcessEnv {
    const { remote, wordDelayMs = 40, env = {} } = this.options;
    const common = {
      ...process.env,
      NODE_ENV: "production",
      PORT: String(this.port),
      HOST: "127.0.0.1",
      // Remote mode never uses it; a test can check that nothing was written there.
      LOCAL_TRIGGER_DATA_DIR: this.dataDir,
      LOCAL_TRIGGER: "",
      TRIGGER_PUBLIC_API_URL: "",
    };
    if (remote) {
      return {
        ...common,
        TRIGGER_SECRET_KEY: remote.secretKey,
        TRIGGER_API_URL: remote.apiURL,
        SESSION_SECRET: this.sessionSecret,
        ...env,
      };
    }
    return {
      ...common,
      OFFLINE_MODEL_DELAY_MS: String(wordDelayMs),
      CHAT_MODEL: "offline:offline-chat",
      TRIGGER_SECRET_KEY: "",
      TRIGGER_API_URL: "",
      ...env,
    };
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
