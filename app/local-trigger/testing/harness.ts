import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { auth, configure } from "@trigger.dev/sdk";
import { chat } from "@trigger.dev/sdk/ai";
import { TriggerChatTransport } from "@trigger.dev/sdk/chat";
export { freePort } from "./free-port";
import { createLocalEngine, type LocalEngine, type LocalEngineOptions } from "../engine.server";

export const TASK_ID = "echo";

export const tempDataDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "local-trigger-test-"));

/**
 * Starts an engine over the test agent and points the server-side SDK at it,
 * as the app does: `configure` with the engine's URL and secret key.
 */
export async function startTestEngine(options: Partial<LocalEngineOptions> & { delayMs?: number } = {}) {
  const { delayMs = 10, ...engineOptions } = options;
  const engine = await createLocalEngine({
    dataDir: engineOptions.dataDir ?? tempDataDir(),
    taskDirs: ["app/local-trigger/testing/tasks"],
    log: () => {},
    ...engineOptions,
    workerEnv: { ECHO_AGENT_DELAY_MS: String(delayMs), ...engineOptions.workerEnv },
  });
  useEngine(engine);
  return engine;
}

export function useEngine(engine: LocalEngine) {
  configure({ baseURL: engine.apiURL, accessToken: engine.secretKey });
}

/** The app's two server actions, written the way the SDK documents them. */
export const startChatSession = chat.createStartSessionAction(TASK_ID);
export const mintChatToken = (chatId: string, expirationTime = "1h") =>
  auth.createPublicToken({ scopes: { read: { sessions: chatId }, write: { sessions: chatId } }, expirationTime });

export function makeTransport(
  engine: Pick<LocalEngine, "apiURL">,
  overrides: Partial<ConstructorParameters<typeof TriggerChatTransport>[0]> = {},
) {
  const calls = { accessToken: 0, startSession: 0 };
  const transport = new TriggerChatTransport({
    task: TASK_ID,
    baseURL: engine.apiURL,
    accessToken: async ({ chatId }) => {
      calls.accessToken++;
      return mintChatToken(chatId);
    },
    startSession: async ({ chatId, clientData }) => {
      calls.startSession++;
      return startChatSession({ chatId, clientData });
    },
    ...overrides,
  });
  return { transport, calls };
}

export const uniqueChatId = (label: string) =>
  `${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitFor<T>(
  probe: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 25 } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`waitFor: condition not met within ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

export const expectedReply = (text: string, promptMessages: number, words = 8) =>
  `Reply to "${text}" after ${promptMessages} prompt messages. ${Array.from({ length: words }, (_, i) => `w${i + 1}`).join(" ")}`;
