import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { configure } from "@trigger.dev/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { expectedReply, freePort, makeTransport, startTestEngine, tempDataDir, uniqueChatId } from "./testing/harness";
import { NodeChat, textOf } from "./testing/node-chat";

/* `npm run engine` as its own process, used as a remote Trigger.dev would be. */

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGTERM");
});

function startCli(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", "app/local-trigger/cli.ts"], {
    env: {
      ...process.env,
      LOCAL_TRIGGER_TASK_DIRS: "app/local-trigger/testing/tasks",
      LOCAL_TRIGGER_PORT: "0",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  return { child, output: () => output, exited };
}

describe("npm run engine", () => {
  it("serves chats from its own process on loopback", async () => {
    const dataDir = tempDataDir();
    const cli = startCli({ LOCAL_TRIGGER_DATA_DIR: dataDir, ECHO_AGENT_DELAY_MS: "0" });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+) with tasks: echo/.exec(cli.output());
        if (match) {
          clearInterval(timer);
          resolve(match[1]!);
        }
      }, 50);
      void cli.exited.then((code) => {
        clearInterval(timer);
        reject(new Error(`engine exited with ${code}: ${cli.output()}`));
      });
    });
    expect(cli.output()).not.toContain(fs.readFileSync(path.join(dataDir, "secret-key"), "utf8").trim());

    configure({ baseURL: url, accessToken: fs.readFileSync(path.join(dataDir, "secret-key"), "utf8").trim() });
    const chatSession = new NodeChat({ id: uniqueChatId("cli"), transport: makeTransport({ apiURL: url }).transport });
    await chatSession.sendMessage({ text: "over the wire" });
    expect(textOf(chatSession.messages[1])).toBe(expectedReply("over the wire", 1));

    cli.child.kill("SIGTERM");
    expect(await cli.exited).toBe(0);
  });

  it("answers 503 while it starts, never 500, then serves", async () => {
    const dataDir = tempDataDir();
    const secretKey = `tr_dev_local_${"ab".repeat(24)}`;
    fs.writeFileSync(path.join(dataDir, "secret-key"), `${secretKey}\n`);
    const port = await freePort();
    const cli = startCli({
      LOCAL_TRIGGER_DATA_DIR: dataDir,
      LOCAL_TRIGGER_PORT: String(port),
      ECHO_AGENT_DELAY_MS: "0",
    });
    const statuses: number[] = [];
    const create = () =>
      fetch(`http://127.0.0.1:${port}/api/v1/sessions`, {
        method: "POST",
        headers: { Authorization: `Bearer ${secretKey}`, "Content-Type": "application/json" },
        body: JSON.stringify({
          type: "chat.agent",
          externalId: uniqueChatId("early"),
          taskIdentifier: "echo",
          triggerConfig: { basePayload: {} },
        }),
      });
    const deadline = Date.now() + 30_000;
    while (!statuses.includes(201)) {
      if (Date.now() > deadline) throw new Error(`never served: ${JSON.stringify(statuses)}\n${cli.output()}`);
      try {
        const response = await create();
        statuses.push(response.status);
        if (response.status === 503) expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
      } catch {
        // Not listening yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(statuses.filter((status) => status !== 201 && status !== 503)).toEqual([]);
    expect(statuses).toContain(503);
  });

  it("refuses to start on a damaged secret key that chats depend on, with one line naming the file", async () => {
    const dataDir = tempDataDir();
    fs.mkdirSync(path.join(dataDir, "sessions", "session_abc123"), { recursive: true });
    fs.writeFileSync(path.join(dataDir, "secret-key"), "tr_");
    const cli = startCli({ LOCAL_TRIGGER_DATA_DIR: dataDir });
    expect(await cli.exited).toBe(1);
    expect(cli.output().trim().split("\n")).toEqual([
      expect.stringMatching(
        new RegExp(
          `cannot start: The secret file ${path.join(dataDir, "secret-key")} is damaged, and 1 chat uses it\\.`,
        ),
      ),
    ]);
  });

  it("refuses a data folder another engine is using", async () => {
    const dataDir = tempDataDir();
    const inUse = await startTestEngine({ dataDir });
    try {
      const cli = startCli({ LOCAL_TRIGGER_DATA_DIR: dataDir });
      expect(await cli.exited).toBe(1);
      expect(cli.output().trim()).toBe(
        `[local-trigger] cannot start: The data folder ${dataDir} is in use by another engine (process ${process.pid}). Stop that process, or give this one its own folder with LOCAL_TRIGGER_DATA_DIR.`,
      );
    } finally {
      await inUse.close();
    }
  });

  it("refuses to listen beyond loopback", async () => {
    const cli = startCli({ LOCAL_TRIGGER_DATA_DIR: tempDataDir(), LOCAL_TRIGGER_HOST: "0.0.0.0" });
    expect(await cli.exited).toBe(1);
    expect(cli.output()).toMatch(/LOCAL_TRIGGER_HOST: must be a loopback address/);
  });
});
