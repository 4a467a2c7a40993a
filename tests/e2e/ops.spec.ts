import { spawn } from "node:child_process";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { request as playwrightRequest } from "@playwright/test";
import { freePort } from "../../app/local-trigger/testing/free-port";
import { ENGINE, sendMessage, startChat } from "./api";
import { AppServer } from "./app-server";
import { ANSWER_END, ChatPage, expect, test } from "./fixtures";

/** Whether a new TCP connection to host:port is refused, as it is once nothing listens there. */
function connectionRefused(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"));
  });
}

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Remote mode with Trigger.dev on a port nothing listens on: the server boots at once, with no engine. */
async function unreachableTriggerEnv() {
  return {
    TRIGGER_SECRET_KEY: "tr_dev_e2e_key_that_must_stay_on_the_server",
    TRIGGER_API_URL: `http://127.0.0.1:${await freePort()}`,
    SESSION_SECRET: "e2e-session-secret-".repeat(3),
  };
}

test("GET /healthz and /readyz on the embedded engine: up, ready, and no cookie", async ({ request }) => {
  const health = await request.get("/healthz");
  expect(health.status()).toBe(200);
  expect(await health.json()).toEqual({ status: "ok" });
  const ready = await request.get("/readyz");
  expect(ready.status()).toBe(200);
  expect(await ready.json()).toEqual({ status: "ready", backend: "embedded" });
  const headers = [health, ready].flatMap((response) => response.headersArray());
  const cookies = headers.filter(({ name }) => /^set-cookie$/i.test(name));
  expect(cookies).toEqual([]);
});

// These tests start, signal and stop their own servers, so they never use the shared one.
test.describe("a server of its own", () => {
  let server: AppServer | undefined;
  test.afterEach(async ({}, testInfo) => {
    if (server && testInfo.status !== testInfo.expectedStatus) {
      await testInfo.attach("server output", { body: server.output() });
    }
    await server?.close();
    server = undefined;
  });

  test("in remote mode with Trigger.dev down, /readyz says 503 and leaks nothing; HOST and PORT hold", async () => {
    const env = await unreachableTriggerEnv();
    const secretKey = env.TRIGGER_SECRET_KEY;
    const closedPort = new URL(env.TRIGGER_API_URL).port;
    server = await AppServer.start({ env, readyPath: "/healthz" });

    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    const body = await ready.text();
    expect(JSON.parse(body)).toEqual({ status: "unavailable", backend: "trigger.dev" });
    expect(body).not.toContain(closedPort);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    // Every line the server printed is one JSON object; the reason is in the log, the key is not.
    await expect.poll(() => server!.output()).toContain('"component":"readiness"');
    const lines = server
      .output()
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const reason = lines.find((line) => line.component === "readiness");
    expect(reason).toMatchObject({ level: "warn", backend: "trigger.dev" });
    expect(server.output()).not.toContain(secretKey);
    const listening = lines.find((line) => line.component === "server");
    expect(listening).toMatchObject({ msg: `listening on http://127.0.0.1:${server.port}` });

    // Bound to HOST=127.0.0.1 only: another loopback address (or none, off Linux) gets no answer on PORT.
    expect(await connectionRefused(server.port)).toBe(false);
    expect(await connectionRefused(server.port, "127.0.0.2").catch(() => true)).toBe(true);
  });

  test("on SIGTERM mid-answer, the answer finishes and is saved, new connections are refused, and it exits 0", async ({
    page,
    browserErrors,
  }) => {
    // Once the server is gone, the page's next requests find no server.
    browserErrors.expect(/Failed to load resource: net::ERR_(CONNECTION_REFUSED|CONNECTION_RESET|EMPTY_RESPONSE)/);
    // The agent titles the chat as the answer ends, and the sidebar's reload then finds no server either (React
    // Router logs it); the page keeps its list and its answer.
    browserErrors.expect(/Failed to fetch manifest patches TypeError: Failed to fetch/);
    const graceMs = 30_000;
    server = await AppServer.start({ env: { SHUTDOWN_GRACE_MS: String(graceMs) } });
    const chat = new ChatPage(page);
    await chat.open(server.url);
    // The offline model quotes it back: about 150 words at 40 ms each, which stream for seconds after the signal.
    await chat.send(Array.from({ length: 12 }, (_, n) => `Sentence ${n + 1} makes the answer long enough.`).join(" "));
    await chat.expectGrowing(2);

    const signalledAt = Date.now();
    const exit = server.exitOn("SIGTERM");
    await expect.poll(() => connectionRefused(server!.port), { intervals: [50] }).toBe(true);
    await expect(chat.answer()).not.toContainText(ANSWER_END);

    await chat.expectComplete();
    const shown = await chat.answer().innerText();
    expect(await exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(graceMs);
    expect(server.output()).toContain('"msg":"stopped"');

    // What the page showed is what was saved: the whole answer, once.
    await server.start();
    await page.reload();
    await expect(chat.answers).toHaveCount(1);
    await expect(chat.answer()).toHaveText(shown);
  });

  test("when the grace period ends mid-answer, the reader's stream ends cleanly and the server exits 0", async () => {
    server = await AppServer.start({ env: { SHUTDOWN_GRACE_MS: "1000" } });
    const api = await playwrightRequest.newContext({ baseURL: server.url });
    const chat = await startChat(api, server.url);
    // About 600 words at 40 ms each: far longer than the grace period.
    await sendMessage(api, server.url, chat, "/long 600");
    await api.dispose();

    const stream = await fetch(`${server.url}${ENGINE}/realtime/v1/sessions/${chat.chatId}/out`, {
      headers: { Authorization: `Bearer ${chat.token}`, "Timeout-Seconds": "60" },
    });
    expect(stream.status).toBe(200);
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    let received = "";
    while (!received.includes("text-delta")) received += (await reader.read()).value ?? "";

    const exit = server.exitOn("SIGTERM");
    // Read to the end: a cut connection would reject here instead of ending.
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value;
    }
    expect(received.endsWith("data: [DONE]\n\n")).toBe(true);
    expect(received).not.toContain("turn-complete");
    expect(await exit).toEqual({ code: 0, signal: null });
    expect(server.output()).toContain('"msg":"grace period over: ending what is still open"');
  });

  test("`npm start` hands SIGTERM on to the server, which shuts down and exits 0", async () => {
    // As a container runs it: the signal goes to npm, the process the orchestrator started.
    const port = await freePort();
    const npm = spawn("npm", ["start", "--silent"], {
      cwd: ROOT,
      env: { ...process.env, ...(await unreachableTriggerEnv()), PORT: String(port), HOST: "127.0.0.1" },
      stdio: ["ignore", "pipe", "pipe"],
      // Its own process group, so that whatever is left of it can be stopped however the test ends.
      detached: true,
    });
    let output = "";
    npm.stdout.on("data", (chunk: Buffer) => (output += chunk));
    npm.stderr.on("data", (chunk: Buffer) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => npm.once("exit", (code) => resolve(code)));
    try {
      const health = () =>
        fetch(`http://127.0.0.1:${port}/healthz`).then(
          (response) => response.status,
          () => 0,
        );
      await expect.poll(health, { timeout: 30_000 }).toBe(200);

      npm.kill("SIGTERM");
      expect(await exited, output).toBe(0);
      expect(output).toContain('"msg":"stopped"');
      expect(await connectionRefused(port)).toBe(true);
    } finally {
      try {
        process.kill(-npm.pid!, "SIGKILL");
      } catch {
        // The group has ended: nothing is left to stop.
      }
    }
  });
});
