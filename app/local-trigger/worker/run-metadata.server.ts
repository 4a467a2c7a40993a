import { metadata } from "@trigger.dev/sdk";
import { type ApiClient, runMetadata } from "@trigger.dev/core/v3";
import { StandardMetadataManager } from "@trigger.dev/core/v3/workers";

const UPDATER_METHODS = ["set", "del", "append", "remove", "increment", "decrement", "update", "stream"] as const;

/**
 * The SDK's own metadata manager, so `metadata.set/append/…` reach the engine
 * the way they reach Trigger.dev: flushed every second and at the end of the
 * run with `PUT /api/v1/runs/:id/metadata`, parent and root operations
 * included.
 *
 * The SDK binds `metadata.parent` and `metadata.root` once, to the manager it
 * finds when it loads, which in a worker is before any manager exists. Those
 * two objects are pointed at whichever manager is installed when they are
 * called, as the real runtime's are by installing its manager first.
 */
export function bootRunMetadata(apiClient: ApiClient) {
  const manager = new StandardMetadataManager(apiClient);
  runMetadata.setGlobalManager(manager);
  const bound: [Record<string, unknown>, () => Record<string, unknown>][] = [
    [
      metadata.parent as unknown as Record<string, unknown>,
      () => runMetadata.parent as unknown as Record<string, unknown>,
    ],
    [metadata.root as unknown as Record<string, unknown>, () => runMetadata.root as unknown as Record<string, unknown>],
  ];
  for (const [updater, current] of bound) {
    for (const method of UPDATER_METHODS) {
      if (typeof updater[method] !== "function") {
        throw new Error(
          `@trigger.dev/sdk changed: metadata.parent.${method} is missing; the engine's worker needs updating`,
        );
      }
      updater[method] = (...args: unknown[]) => {
        const target = current();
        return target === updater ? updater : (target[method] as (...a: unknown[]) => unknown)(...args);
      };
    }
  }
  return manager;
}
