import type { LocalEngine } from "~/local-trigger/engine.server";

/**
 * Holds the app's one embedded engine. On globalThis so a dev-server module reload reuses the running engine
 * instead of starting a second one, and so the production server (its own bundle) can close the engine that
 * the app's bundle started. Imports the engine's type only, so that bundle does not carry the engine's code.
 */
export const localEngineHolder = globalThis as typeof globalThis & { __localTriggerEngine?: Promise<LocalEngine> };

/** The engine, if this process has started one. */
export function startedLocalEngine(): Promise<LocalEngine> | undefined {
  return localEngineHolder.__localTriggerEngine;
}
