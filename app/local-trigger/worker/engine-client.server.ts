import type { MessagePort } from "node:worker_threads";
import type { EngineCall, EngineCallResult, ParentToWorker, WorkerToParent } from "./protocol.server";

export type EngineClient = <C extends EngineCall>(call: C) => Promise<EngineCallResult[C["op"]]>;

/**
 * Request/response over the worker's port. Messages on one port arrive in
 * order and the engine applies each as it arrives, so calls take effect in
 * the order the agent made them without any queueing here. (A channel read
 * may be answered later, once a record arrives; it changes nothing.)
 */
export function createEngineClient(port: MessagePort): EngineClient {
  let nextRequestId = 0;
  const pending = new Map<number, { resolve: (value: never) => void; reject: (error: Error) => void }>();
  port.on("message", (message: ParentToWorker) => {
    if (message.type !== "call-result" && message.type !== "call-error") return;
    const waiter = pending.get(message.requestId);
    if (!waiter) return;
    pending.delete(message.requestId);
    if (message.type === "call-result") waiter.resolve(message.value as never);
    else waiter.reject(new Error(message.message));
  });
  return (call) =>
    new Promise((resolve, reject) => {
      const requestId = ++nextRequestId;
      pending.set(requestId, { resolve: resolve as (value: never) => void, reject });
      port.postMessage({ type: "call", requestId, call } satisfies WorkerToParent);
    });
}
