import type { ChatStatus } from "ai";
import { useEffect, useRef, useState } from "react";
import type { ChatUIMessage } from "../../../trigger/chat";
import type { useChatTransport } from "./use-chat-transport";

/** A message sent while an answer is written, until the agent takes it. */
export type PendingMessage = { id: string; text: string; state: "sending" | "queued" };

/** How often, and how long, the page looks for the agent's answer to a queued message once the answer before it has ended. */
const FOLLOW_EVERY_MS = 250;
const FOLLOW_ATTEMPTS = 40;

type SteeringChat = {
  transport: ReturnType<typeof useChatTransport>;
  chatId: string;
  status: ChatStatus;
  messages: ChatUIMessage[];
  setMessages: (messages: ChatUIMessage[] | ((current: ChatUIMessage[]) => ChatUIMessage[])) => void;
  resumeStream: () => Promise<void>;
  /** Sent with the message, as with any other (the model choice). */
  clientData: Record<string, unknown>;
  /** A message that could not be sent at all: it goes back to the composer. */
  onUnsent: (text: string) => void;
};

/**
 * Messages typed while an answer is written, through the SDK's steering
 * path (`transport.sendPendingMessage`, the agent's `pendingMessages`). Each
 * is appended to the chat's input stream at once, so it is on the server and
 * never lost. The agent takes it into the answer at its next step boundary
 * (the answer then shows it inline), or answers it as the next turn.
 *
 * Not the SDK's `usePendingMessages`: that hook also sends every message the
 * agent did not take in as a new message when the answer ends, and the agent,
 * which already answers it as its next turn, would then answer it twice. Here
 * the page only follows that next turn: it shows the message in the
 * conversation and resumes the stream to read the answer.
 */
export function useSteering({
  transport,
  chatId,
  status,
  messages,
  setMessages,
  resumeStream,
  clientData,
  onUnsent,
}: SteeringChat) {
  const [pending, setPending] = useState<PendingMessage[]>([]);
  const busy = status === "submitted" || status === "streaming";
  const latest = useRef(messages);
  // Written during render: the follow loop reads the messages as last rendered.
  // eslint-disable-next-line react-hooks/refs -- the latest value for an async loop
  latest.current = messages;

  const injected = injectedMessageIds(messages);
  const waiting = pending.filter((message) => !injected.has(message.id));

  async function queue(text: string) {
    const message: ChatUIMessage = { id: crypto.randomUUID(), role: "user", parts: [{ type: "text", text }] };
    setPending((current) => [...current, { id: message.id, text, state: "sending" }]);
    const sent = await transport.sdk.sendPendingMessage(chatId, message, clientData).catch(() => false);
    setPending((current) =>
      sent
        ? current.map((entry) => (entry.id === message.id ? { ...entry, state: "queued" } : entry))
        : current.filter((entry) => entry.id !== message.id),
    );
    if (!sent) onUnsent(text);
  }

  // The answer has ended and the agent still holds queued messages: it answers them next, so they join the
  // conversation and the page reads that answer.
  const following = useRef(false);
  const queued = waiting.filter((message) => message.state === "queued");
  useEffect(() => {
    if (busy || following.current || queued.length === 0) return;
    setPending((current) => current.filter((message) => message.state !== "queued"));
    setMessages((current) => [
      ...current,
      ...queued.map((message): ChatUIMessage => ({
        id: message.id,
        role: "user",
        parts: [{ type: "text", text: message.text }],
      })),
    ]);
    following.current = true;
    const lastId = queued.at(-1)!.id;
    void (async () => {
      try {
        for (let attempt = 0; attempt < FOLLOW_ATTEMPTS && !isAnswered(latest.current, lastId); attempt++) {
          if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, FOLLOW_EVERY_MS));
          const session = transport.sdk.getSession(chatId);
          if (!session) return;
          // isStreaming left unset: the server says whether the next turn has begun.
          transport.sdk.setSession(chatId, {
            publicAccessToken: session.publicAccessToken,
            lastEventId: session.lastEventId,
          });
          await resumeStream();
        }
      } finally {
        following.current = false;
      }
    })();
  }, [busy, queued, setMessages, resumeStream, transport, chatId]);

  return { pending: waiting, queue };
}

/** The messages the agent has taken into its answers, by id (the SDK's `data-pending-message-injected` parts). */
function injectedMessageIds(messages: ChatUIMessage[]): Set<string> {
  const ids = new Set<string>();
  for (const message of messages) {
    if (message.role !== "assistant") continue;
    for (const part of message.parts) {
      if (part.type === "data-pending-message-injected") for (const id of part.data.messageIds ?? []) ids.add(id);
    }
  }
  return ids;
}

/** Whether an answer follows the message with this id. */
function isAnswered(messages: ChatUIMessage[], id: string): boolean {
  const index = messages.findIndex((message) => message.id === id);
  return index !== -1 && messages.slice(index + 1).some((message) => message.role === "assistant");
}
