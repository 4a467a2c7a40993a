import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { RetrieveSessionResponseBody } from "@trigger.dev/sdk";
import {
  RouterContextProvider,
  type ServerBuild,
  UNSAFE_withComponentProps,
  UNSAFE_withErrorBoundaryProps,
  UNSAFE_withHydrateFallbackProps,
} from "react-router";

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

type RouteConfigEntry = {
  id?: string;
  file: string;
  path?: string;
  index?: boolean;
  caseSensitive?: boolean;
  children?: RouteConfigEntry[];
};

type ServerRouteModule = NonNullable<ServerBuild["routes"][string]>["module"];

/** A route module with its components given their props, as the React Router Vite plugin's transform does. */
function withProps(module: Record<string, unknown>): ServerRouteModule {
  const { default: Default, ErrorBoundary, HydrateFallback } = module;
  return {
    ...module,
    ...(Default
      ? { default: UNSAFE_withComponentProps(Default as Parameters<typeof UNSAFE_withComponentProps>[0]) }
      : {}),
    ...(ErrorBoundary
      ? {
          ErrorBoundary: UNSAFE_withErrorBoundaryProps(
            ErrorBoundary as Parameters<typeof UNSAFE_withErrorBoundaryProps>[0],
          ),
        }
      : {}),
    ...(HydrateFallback
      ? {
          HydrateFallback: UNSAFE_withHydrateFallbackProps(
            HydrateFallback as Parameters<typeof UNSAFE_withHydrateFallbackProps>[0],
          ),
        }
      : {}),
  } as ServerRouteModule;
}

/**
 * A server build assembled from the real app/routes.ts, root, entry.server and
 * route modules, as the React Router Vite plugin assembles it, minus the client
 * assets. Imported when called, so the calling test's vi.mock factories apply.
 * Pass it to createRequestHandler to test whole responses: status, headers, HTML.
 */
export async function testServerBuild(): Promise<ServerBuild> {
  const [{ default: routeConfig }, { default: config }, entryServer] = await Promise.all([
    import("../routes"),
    import("../../react-router.config"),
    import("../entry.server"),
  ]);
  const routes: ServerBuild["routes"] = {};
  const assetRoutes: ServerBuild["assets"]["routes"] = {};
  async function add(entry: RouteConfigEntry, parentId: string | undefined) {
    const id = entry.id ?? entry.file.replace(/\.[a-z0-9]+$/i, "");
    // The file names come from routes.ts, so the import cannot name them statically.
    const module = withProps(await import(/* @vite-ignore */ `../${entry.file}`));
    const { path, index, caseSensitive } = entry;
    routes[id] = { id, parentId, path, index, caseSensitive, module };
    assetRoutes[id] = {
      id,
      parentId,
      path,
      index,
      caseSensitive,
      module: `/assets/${id}.js`,
      hasLoader: "loader" in module,
      hasAction: "action" in module,
      hasClientLoader: "clientLoader" in module,
      hasClientAction: "clientAction" in module,
      hasClientMiddleware: "clientMiddleware" in module,
      hasErrorBoundary: "ErrorBoundary" in module,
      clientActionModule: undefined,
      clientLoaderModule: undefined,
      clientMiddlewareModule: undefined,
      hydrateFallbackModule: undefined,
    };
    for (const child of entry.children ?? []) await add(child, id);
  }
  await add({ id: "root", file: "root.tsx", path: "", children: routeConfig }, undefined);
  return {
    entry: { module: entryServer },
    routes,
    assets: {
      entry: { module: "/assets/entry.client.js", imports: [] },
      routes: assetRoutes,
      url: "/assets/manifest.js",
      version: "test",
    },
    publicPath: "/",
    assetsBuildDirectory: "build/client",
    future: config.future ?? {},
    ssr: config.ssr ?? true,
    isSpaMode: false,
    prerender: [],
    routeDiscovery: { mode: "lazy", manifestPath: "/__manifest" },
  };
}
