import "~/app.css";
import { useChat } from "@ai-sdk/react";
import { DefaultChatTransport } from "ai";
import { StrictMode, useState } from "react";
import { createRoot } from "react-dom/client";
import { Composer } from "~/components/chat/composer";
import { MessageList, preloadMarkdown } from "~/components/chat/message-list";
import { renderThrottleFor } from "~/components/chat/render-throttle";
import type { ChatUIMessage } from "../../../trigger/chat";

/*
 * The page a developer would write without Trigger.dev: `useChat` with the AI
 * SDK's default transport against a plain route handler, rendering the app's
 * own message list and composer. Built and served only by `npm run bench`.
 */
preloadMarkdown();

function BaselineChat() {
  const [draft, setDraft] = useState("");
  // The app's render policy, so the comparison is of what carries the answer, not of how it is drawn.
  const [renderThrottle, setRenderThrottle] = useState<number>();
  const { messages, sendMessage, status, stop } = useChat<ChatUIMessage>({
    transport: new DefaultChatTransport({ api: "/api/chat" }),
    experimental_throttle: renderThrottle,
  });
  const wantedThrottle = renderThrottleFor(messages);
  if (wantedThrottle !== renderThrottle) setRenderThrottle(wantedThrottle);
  const busy = status === "submitted" || status === "streaming";
  return (
    <main className="mx-auto flex h-dvh max-w-3xl flex-col gap-4 p-4">
      <div className="flex-1 overflow-y-auto">
        <MessageList messages={messages} busy={busy} streaming={status === "streaming"} stoppedHere={undefined} />
      </div>
      <Composer
        text={draft}
        onTextChange={setDraft}
        busy={busy}
        onSend={(text) => void sendMessage({ text })}
        onStop={stop}
      />
    </main>
  );
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <BaselineChat />
  </StrictMode>,
);
