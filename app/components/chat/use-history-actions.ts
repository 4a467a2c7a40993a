import type { ChatRequestOptions } from "ai";
import { useMemo, useRef } from "react";
import type { ChatUIMessage } from "../../../trigger/chat";
import type { HistoryAction } from "../../../trigger/chat-history";
import type { HistoryControls } from "./message-list";
import { messageText } from "./message-list";

type HistoryChat = {
  messages: ChatUIMessage[];
  setMessages: (messages: ChatUIMessage[]) => void;
  sendMessage: (message: undefined, options: ChatRequestOptions) => Promise<void>;
  /** Called before each action: the page resets its per-turn state and follows the new answer. */
  beforeAction: (action: HistoryAction) => void;
  /** Undo hands the undone message's text back, to send again or change. */
  restoreDraft: (text: string) => void;
};

/**
 * Edit, regenerate and undo, sent as the agent's actions through `useChat`
 * (the transport sends `body.action` as an action), so a turn that follows
 * renders like any turn. The page mirrors each edit at once, as the agent
 * makes it to its stored history; if the agent refuses, the page goes back to
 * what the server saved (see the caller). The functions are stable, for memo.
 */
export function useHistoryActions(chat: HistoryChat): HistoryControls {
  const latest = useRef(chat);
  // Written during render: the controls are stable and read the chat as last rendered.
  // eslint-disable-next-line react-hooks/refs -- the latest value for stable callbacks
  latest.current = chat;
  return useMemo(() => {
    function run(action: HistoryAction, shown: ChatUIMessage[]) {
      const { setMessages, sendMessage, beforeAction } = latest.current;
      beforeAction(action);
      setMessages(shown);
      void sendMessage(undefined, { body: { action } });
    }
    return {
      onEdit: (messageId, text) => {
        const { messages } = latest.current;
        const index = messages.findIndex((message) => message.id === messageId);
        if (index === -1 || messages[index]!.role !== "user") return;
        const edited: ChatUIMessage = { ...messages[index]!, parts: [{ type: "text", text }] };
        run({ type: "edit", messageId, text }, [...messages.slice(0, index), edited]);
      },
      onRegenerateAnswer: (messageId) => {
        const { messages } = latest.current;
        const index = messages.findIndex((message) => message.id === messageId);
        if (index === -1 || messages[index]!.role !== "assistant") return;
        run({ type: "regenerate", messageId }, messages.slice(0, index));
      },
      onUndo: () => {
        const { messages, restoreDraft } = latest.current;
        const index = messages.findLastIndex((message) => message.role === "user");
        if (index === -1) return;
        run({ type: "undo", messageId: messages[index]!.id }, messages.slice(0, index));
        restoreDraft(messageText(messages[index]!));
      },
    } satisfies HistoryControls;
  }, []);
}
