import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { ServerEnv } from "~/lib/env.server";
import type { LocalEngineMount } from "~/lib/local-engine-mount.server";
import { captureLogs } from "~/lib/logger.server";
import { READINESS_CACHE_MS } from "~/lib/readiness.server";
import { testServerBuild } from "~/lib/test-support.server";
import { createApp, type ServingState } from "./app.server";

// Vite's resolver picks the adapter's CommonJS build, whose react-router is another copy than the app's, so the
// RouterContextProvider the app hands it fails its instanceof check. Node picks the ES module build, as in production.
vi.mock("@react-router/express", () => import(/* @vite-ignore */ import.meta.resolve("@react-router/express")));
vi.mock("react-router", () => import(/* @vite-ignore */ import.meta.resolve("react-router")));

const SECRET_KEY = "tr_dev_readinesstestsecretkey0123456789";
const SESSION_SECRET = "session-secret-that-must-never-be-logged";

// Remote mode against a stand-in for Trigger.dev on a loopback port, which each test makes healthy, refusing or silent.
const env = vi.hoisted(() => ({ current: undefined as ServerEnv | undefined }));
vi.mock("~/lib/env.server", async (importOriginal) => ({
  ...(await importOriginal<typeof import("~/lib/env.server")>()),
  getServerEnv: () => env.current!,
}));

type BackendMode = "healthy" | "wrong-key" | "silent";
const backend = {
  mode: "healthy" as BackendMode,
  calls: [] as { url: string; authorization: string | undefined }[],
  held: [] as http.ServerResponse[],
};
const trigger = http.createServer((request, response) => {
  backend.calls.push({ url: request.url ?? "", authorization: request.headers.authorization });
  if (backend.mode === "silent") backend.held.push(response);
  else if (backend.mode === "wrong-key") respondJson(response, 401, { error: "Invalid API key" });
  else respondJson(response, 200, { data: [], pagination: {} });
});

function respondJson(response: http.ServerResponse, status: number, body: unknown) {
  response.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
}

let appServer: http.Server;
let appURL: string;
const state: ServingState = { draining: false, inFlight: new Set() };

beforeAll(async () => {
  await new Promise<void>((resolve) => trigger.listen(0, "127.0.0.1", resolve));
  const { parseServerEnv } = await vi.importActual<typeof import("~/lib/env.server")>("~/lib/env.server");
  env.current = parseServerEnv({
    NODE_ENV: "production",
    TRIGGER_SECRET_KEY: SECRET_KEY,
    TRIGGER_API_URL: `http://127.0.0.1:${(trigger.address() as AddressInfo).port}`,
    SESSION_SECRET,
    LOG_LEVEL: "silent",
  });
  const app = createApp({ build: await testServerBuild(), env: env.current, clientDir: "build/does-not-exist", state });
  appServer = http.createServer(app);
  await new Promise<void>((resolve) => appServer.listen(0, "127.0.0.1", resolve));
  appURL = `http://127.0.0.1:${(appServer.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const held of backend.held) held.destroy();
  appServer.closeAllConnections();
  trigger.closeAllConnections();
  await Promise.all([appServer, trigger].map((server) => new Promise((resolve) => server.close(resolve))));
});

let logs: ReturnType<typeof captureLogs>;
beforeAll(() => {
  // Only the clock is fake: each test starts past the previous test's cached readiness answer.
  vi.useFakeTimers({ toFake: ["Date"] });
});
beforeEach(() => {
  vi.setSystemTime(Date.now() + 60_000);
  backend.mode = "healthy";
  backend.calls = [];
  state.draining = false;
  logs = captureLogs();
});
afterEach(() => logs.stop());
afterAll(() => void vi.useRealTimers());

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${appURL}${path}`, { headers });

/** The log lines written so far that are about one request. */
const linesOf = (requestId: string) => logs.lines.filter((line) => line.requestId === requestId);

/** The request's own line, written when its response closes (just after the client has read it). */
async function requestLine(requestId: string) {
  await vi.waitFor(() => expect(linesOf(requestId).find((line) => line.component === "http")).toBeDefined());
  return linesOf(requestId).find((line) => line.component === "http")!;
}

describe("GET /healthz", () => {
  it("answers 200 with a tiny JSON body, no cookie and no caching; its request line is at debug level", async () => {
    const response = await get("/healthz", { "X-Request-Id": "health-1" });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
    expect(response.headers.get("Set-Cookie")).toBeNull();
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const line = await requestLine("health-1");
    expect(line).toMatchObject({ level: "debug", method: "GET", path: "/healthz", status: 200 });
    expect(backend.calls).toEqual([]);
  });

  it("is not rate limited: a burst from one address all gets 200, and no guest cookie", async () => {
    const responses = await Promise.all(Array.from({ length: 100 }, () => get("/healthz")));
    expect(responses.map((response) => response.status)).toEqual(Array(100).fill(200));
    expect(responses.filter((response) => response.headers.has("Set-Cookie"))).toEqual([]);
  });
});

describe("GET /readyz", () => {
  it("answers 200 when Trigger.dev lists a session with the configured key", async () => {
    const response = await get("/readyz");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ready", backend: "trigger.dev" });
    expect(response.headers.get("Set-Cookie")).toBeNull();
    const authorization = `Bearer ${SECRET_KEY}`;
    expect(backend.calls).toEqual([{ url: "/api/v1/sessions?page%5Bsize%5D=1", authorization }]);
  });

  it("answers 503 naming only the backend when the key is refused; the reason goes to the request's log", async () => {
    backend.mode = "wrong-key";
    const response = await get("/readyz", { "X-Request-Id": "ready-refused" });
    expect(response.status).toBe(503);
    expect(await response.text()).toBe(JSON.stringify({ status: "unavailable", backend: "trigger.dev" }));
    expect(backend.calls).toHaveLength(1);
    const [reason] = linesOf("ready-refused").filter((line) => line.component === "readiness");
    expect(reason).toMatchObject({ level: "warn", msg: "not ready: trigger.dev did not answer a session list" });
    expect(JSON.stringify(reason)).toContain("Invalid API key");
  });

  it("answers 503 when Trigger.dev does not answer in time, and calls no more while that call hangs", async () => {
    backend.mode = "silent";
    const response = await get("/readyz");
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: "unavailable", backend: "trigger.dev" });

    vi.setSystemTime(Date.now() + READINESS_CACHE_MS);
    expect((await get("/readyz")).status).toBe(503);
    expect(backend.calls).toHaveLength(1);

    // Once the hung call ends (its connection drops), a later check asks the backend again and recovers.
    // Waited for here: the next test must not start while this call is still settling.
    backend.mode = "healthy";
    for (const held of backend.held.splice(0)) held.destroy();
    await vi.waitFor(async () => {
      vi.setSystemTime(Date.now() + READINESS_CACHE_MS);
      expect((await get("/readyz")).status).toBe(200);
    });
  });

  it("answers a burst of probes from one backend call", async () => {
    const responses = await Promise.all(Array.from({ length: 50 }, () => get("/readyz")));
    expect(responses.map((response) => response.status)).toEqual(Array(50).fill(200));
    expect(backend.calls).toHaveLength(1);

    vi.setSystemTime(Date.now() + READINESS_CACHE_MS);
    expect((await get("/readyz")).status).toBe(200);
    expect(backend.calls).toHaveLength(2);
  });

  it("answers 503 while the server shuts down, whatever the backend says", async () => {
    state.draining = true;
    const response = await get("/readyz");
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: "unavailable", backend: "trigger.dev" });
    expect(response.headers.get("Connection")).toBe("close");
  });
});

describe("request ids and the log", () => {
  it("echoes a sane X-Request-Id and marks every line of that request with it", async () => {
    backend.mode = "wrong-key";
    const response = await get("/readyz?probe=1", { "X-Request-Id": "lb-7f3a:0001" });
    expect(response.headers.get("X-Request-Id")).toBe("lb-7f3a:0001");
    const line = await requestLine("lb-7f3a:0001");
    expect(line).toMatchObject({ level: "warn", component: "http", method: "GET", path: "/readyz", status: 503 });
    expect(line.durationMs).toEqual(expect.any(Number));
    expect(linesOf("lb-7f3a:0001").map((each) => each.component)).toEqual(["readiness", "http"]);
    // Every line is one JSON object with a time and a level.
    for (const each of logs.lines) expect(each).toMatchObject({ time: expect.any(String), level: expect.any(String) });
  });

  it.each([
    ["too long", "x".repeat(65)],
    ["with spaces", "two words"],
    ["with a quote", 'id"injected'],
  ])("replaces an X-Request-Id %s with its own", async (_, incoming) => {
    const response = await get("/healthz", { "X-Request-Id": incoming });
    const requestId = response.headers.get("X-Request-Id")!;
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await requestLine(requestId)).path).toBe("/healthz");
  });

  it("logs a refused request's lines under its id, and never the cookie, the query string or a secret", async () => {
    backend.mode = "wrong-key";
    const cookie = "__Host-guest=cookie-value-that-must-never-be-logged";
    const headers = { Cookie: cookie, Authorization: "Bearer header-token-never-logged" };
    await get("/readyz?token=query-token-never-logged", { ...headers, "X-Request-Id": "secret-check" });
    const refused = await fetch(`${appURL}/api/chats?token=query-token-never-logged`, {
      method: "POST",
      headers: { ...headers, "X-Request-Id": "cross-site", Origin: "https://evil.example" },
      body: "{}",
    });
    expect(refused.status).toBe(403);
    await requestLine("secret-check");
    await requestLine("cross-site");
    expect(linesOf("cross-site").map((line) => line.component)).toEqual(["security", "http"]);
    expect((await requestLine("cross-site")).status).toBe(403);

    const everything = logs.lines.map((line) => line.raw).join("");
    const secrets = [SECRET_KEY, SESSION_SECRET, "cookie-value-that", "header-token-never-logged", "query-token"];
    for (const secret of secrets) expect(everything).not.toContain(secret);
  });
});

describe("the embedded engine's mount", () => {
  it("is served beside React Router, after the request id, the security headers and the cross-site check", async () => {
    const serve = vi.fn(async (request: Request, clientAddress: string | null) =>
      Response.json({ url: request.url, clientAddress, body: request.method === "POST" ? await request.text() : null }),
    );
    const build = await testServerBuild();
    const localEngineMount: LocalEngineMount = { path: "/local-trigger", serve };
    const mounted = createApp({
      build: { ...build, entry: { module: Object.assign({}, build.entry.module, { localEngineMount }) } },
      env: env.current!,
      clientDir: "build/does-not-exist",
      state,
    });
    const server = http.createServer(mounted);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const read = await fetch(`${origin}/local-trigger/realtime/v1/sessions/s1/out`, {
        headers: { "X-Request-Id": "engine-read" },
      });
      expect(await read.json()).toEqual({
        url: `${origin}/local-trigger/realtime/v1/sessions/s1/out`,
        clientAddress: "127.0.0.1",
        body: null,
      });
      expect(read.headers.get("x-request-id")).toBe("engine-read");
      expect(read.headers.get("content-security-policy")).toContain("default-src 'self'");
      expect((await requestLine("engine-read")).path).toBe("/local-trigger/realtime/v1/sessions/s1/out");

      const write = await fetch(`${origin}/local-trigger/realtime/v1/sessions/s1/in/append`, {
        method: "POST",
        headers: { Origin: origin, "Content-Type": "application/json" },
        body: '{"kind":"message"}',
      });
      expect((await write.json()).body).toBe('{"kind":"message"}');

      const crossSite = await fetch(`${origin}/local-trigger/realtime/v1/sessions/s1/in/append`, {
        method: "POST",
        headers: { Origin: "https://evil.example", "Content-Type": "application/json" },
        body: "{}",
      });
      expect(crossSite.status).toBe(403);
      expect(serve).toHaveBeenCalledTimes(2);
      // Everything else is still React Router's.
      expect((await fetch(`${origin}/healthz`)).status).toBe(200);
      expect(serve).toHaveBeenCalledTimes(2);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
