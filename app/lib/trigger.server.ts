import { auth, configure } from "@trigger.dev/sdk";
import { chat } from "@trigger.dev/sdk/ai";
import type { chatAgent } from "../../trigger/chat";
import { CHAT_TASK_ID } from "./chats";
import { getLocalEngine, LOCAL_TRIGGER_PATH } from "./local-engine.server";
import { getServerEnv, remoteBrowserBaseURL, remoteServerBaseURL } from "./env.server";

export type TriggerConnection = {
  mode: "local" | "remote";
  /** Base URL for the browser transport; relative to the app's origin in local mode. */
  browserBaseURL: string;
};

let connection: Promise<TriggerConnection> | undefined;

/**
 * Points the server-side SDK at Trigger.dev, or at the embedded engine when
 * no secret key is configured. Every server module that calls the SDK awaits
 * this first; it runs once per process.
 */
export function connectTrigger(): Promise<TriggerConnection> {
  connection ??= (async () => {
    const env = getServerEnv();
    if (env.triggerMode === "local") {
      const engine = await getLocalEngine(env);
      configure({ baseURL: engine.apiURL, accessToken: engine.secretKey });
      return { mode: "local", browserBaseURL: LOCAL_TRIGGER_PATH };
    }
    configure({ baseURL: remoteServerBaseURL(env), accessToken: env.TRIGGER_SECRET_KEY });
    return { mode: "remote", browserBaseURL: remoteBrowserBaseURL(env) };
  })();
  connection.catch(() => (connection = undefined));
  return connection;
}

const startSession = chat.createStartSessionAction<typeof chatAgent>(CHAT_TASK_ID);

/**
 * Starts (or resumes) the chat's session, tagged with its owner so listing can filter by guest.
 * `metadata` is stored with a session it creates, in the same call.
 */
export async function startChatSession(chatId: string, ownerTag: string, metadata?: Record<string, unknown>) {
  await connectTrigger();
  return startSession({ chatId, tags: [ownerTag], ...(metadata ? { metadata } : {}) });
}

/**
 * A token that can read and write this one chat's streams, for one hour.
 * Not shorter, though Trigger.dev cannot revoke it when the chat is deleted:
 * the transport fetches a new token when a request is refused, but a stream
 * that reconnects mid-answer retries with the old one, so an expired token
 * turns a dropped connection into a failed answer.
 */
export async function mintChatToken(chatId: string) {
  await connectTrigger();
  return auth.createPublicToken({
    scopes: { read: { sessions: chatId }, write: { sessions: chatId } },
    expirationTime: "1h",
  });
}
