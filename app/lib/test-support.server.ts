import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { RetrieveSessionResponseBody } from "@trigger.dev/sdk";
import { RouterContextProvider } from "react-router";

// No import of env.server here: tests build their environment inside vi.mock("~/lib/env.server")
// factories, and a factory that imports the module it mocks never resolves.

/** A fresh, empty data folder for a local-mode test environment. */
export function tempDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "chat-app-test-"));
}

/** What a loader or action gets from React Router, for calling one directly. */
export function routeArgs<P extends Record<string, string | undefined>>(request: Request, params: P, pattern: string) {
  return { request, params, pattern, url: new URL(request.url), context: new RouterContextProvider() };
}

/** Loaders and actions throw expected failures as Responses; this returns them like a normal result. */
export async function settle(result: Promise<unknown>): Promise<Response> {
  const value = await result.catch((error: unknown) => {
    if (error instanceof Response) return error;
    throw error;
  });
  if (!(value instanceof Response)) throw new Error(`Expected a Response, got ${JSON.stringify(value)}`);
  return value;
}

/** The Cookie request header a browser sends back after receiving this Set-Cookie. */
export function cookieFrom(setCookie: string): string {
  return setCookie.split(";")[0]!;
}

/** A session as the Trigger.dev API returns it. */
export function sessionRow(overrides: Partial<RetrieveSessionResponseBody> = {}): RetrieveSessionResponseBody {
  return {
    id: "session_test",
    externalId: null,
    type: "chat.agent",
    taskIdentifier: "chat",
    currentRunId: null,
    tags: [],
    metadata: null,
    closedAt: null,
    closedReason: null,
    expiresAt: null,
    createdAt: new Date("2026-01-01T00:00:00Z"),
    updatedAt: new Date("2026-01-01T00:00:00Z"),
    ...overrides,
  };
}

/**
 * Body of a `vi.mock("~/lib/env.server", …)` factory: the real module, but
 * getServerEnv() returns a local-mode environment on a fresh data folder.
 */
export async function localEnvModule(importOriginal: <T>() => Promise<T>) {
  const actual = await importOriginal<typeof import("./env.server")>();
  const env = actual.parseServerEnv({ NODE_ENV: "test", LOCAL_TRIGGER_DATA_DIR: tempDataDir() });
  return { ...actual, getServerEnv: () => env };
}

/** The status a loader signalled by throwing `data(…, { status })` or a Response. */
export async function thrownStatus(result: Promise<unknown>): Promise<number> {
  try {
    await result;
  } catch (error) {
    if (error instanceof Response) return error.status;
    const init = (error as { init?: ResponseInit | null }).init;
    if (typeof init?.status === "number") return init.status;
    throw error;
  }
  throw new Error("Expected the loader to throw a status");
}
