import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { configure } from "@trigger.dev/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { expectedReply, makeTransport, tempDataDir, uniqueChatId } from "./testing/harness";
import { NodeChat, textOf } from "./testing/node-chat";

/* `npm run engine` as its own process, used as a remote Trigger.dev would be. */

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGTERM");
});

function startCli(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", "app/local-trigger/cli.ts"], {
    env: { ...process.env, LOCAL_TRIGGER_TASK_DIRS: "app/local-trigger/testing/tasks", LOCAL_TRIGGER_PORT: "0", ...env },
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

  it("refuses to listen beyond loopback", async () => {
    const cli = startCli({ LOCAL_TRIGGER_DATA_DIR: tempDataDir(), LOCAL_TRIGGER_HOST: "0.0.0.0" });
    expect(await cli.exited).toBe(1);
    expect(cli.output()).toMatch(/LOCAL_TRIGGER_HOST: must be a loopback address/);
  });
});
