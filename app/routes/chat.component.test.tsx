// @vitest-environment happy-dom
import type { UIMessageChunk } from "ai";
import { createRoot, type Root } from "react-dom/client";
import { createRoutesStub } from "react-router";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Route } from "./+types/chat";
import ChatRoute from "./chat";

const CHAT_ID = "0b9c5f4e-7d2a-4c1e-9f3b-2a6d8e1c4b7a";

/** Stands in for the Trigger.dev transport: every answer streams until it is aborted. */
const transport = vi.hoisted(() => ({
  sendMessages: vi.fn(),
  reconnectToStream: vi.fn(),
  stopGeneration: vi.fn(async (_chatId: string) => true),
  sdk: { sendPendingMessage: vi.fn(async (_chatId: string, _message: unknown, _clientData: unknown) => true) },
}));
// One tab here: nothing to coordinate.
const transportOptions = vi.hoisted(() => ({
  current: undefined as undefined | { onMessageDelivered: (id: string) => void },
}));
vi.mock("~/components/chat/use-chat-transport", () => ({
  useChatTransport: (options: { onMessageDelivered: (id: string) => void }) => {
    transportOptions.current = options;
    return transport;
  },
  useTabSync: () => false,
  // No server here: the saved transcript is never reached.
  loadTranscriptPage: () => Promise.reject(new Error("no server in this test")),
  withSavedTail: (shown: unknown[]) => shown,
}));
// The browser bundle has none of the route's server modules, and this test never runs its loader.
vi.mock("~/lib/chats.server", () => ({}));
vi.mock("~/lib/guest.server", () => ({}));
vi.mock("~/lib/trigger.server", () => ({}));
vi.mock("~/lib/models.server", () => ({}));

const OFFERED_MODELS = {
  models: [{ id: "offline:offline-chat", label: "Offline demo model", offline: true }],
  defaultModel: "offline:offline-chat",
};

/** An answer that has started and is still being written, until `signal` aborts it. */
function openAnswer(signal: AbortSignal | undefined): ReadableStream<UIMessageChunk> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue({ type: "start", messageId: "a1" });
      controller.enqueue({ type: "text-start", id: "t1" });
      controller.enqueue({ type: "text-delta", id: "t1", delta: "Thinking" });
      signal?.addEventListener("abort", () => controller.close());
    },
  });
}

let container: HTMLElement;
let root: Root;

function renderChat(data: Omit<Route.ComponentProps["loaderData"], "models">) {
  const loaderData = { ...data, models: OFFERED_MODELS } as Route.ComponentProps["loaderData"];
  const Stub = createRoutesStub([
    { id: "routes/chat", path: "/chat/:chatId", Component: ChatRoute, loader: () => loaderData },
  ]);
  root = createRoot(container);
  // Hydrated with the loader's data, as the server-rendered page is.
  root.render(
    <Stub initialEntries={[`/chat/${CHAT_ID}`]} hydrationData={{ loaderData: { "routes/chat": loaderData } }} />,
  );
}

async function find(selector: string): Promise<HTMLElement> {
  return vi.waitFor(() => {
    const element = container.querySelector<HTMLElement>(selector);
    if (!element) throw new Error(`Nothing matches ${selector}`);
    return element;
  });
}

describe("Stop in the chat page", () => {
  beforeEach(() => {
    vi.clearAllMocks();
    transport.sendMessages.mockImplementation(async ({ abortSignal }: { abortSignal?: AbortSignal }) =>
      openAnswer(abortSignal),
    );
    transport.reconnectToStream.mockResolvedValue(null);
    container = document.createElement("div");
    document.body.append(container);
  });

  afterEach(() => {
    root.unmount();
    container.remove();
  });

  it("closes this tab's stream and tells the agent to stop writing", async () => {
    renderChat({
      chatId: CHAT_ID,
      baseURL: "/local-trigger",
      title: undefined,
      history: undefined,
      highlightedCode: {},
    });
    (await find('[data-testid="suggested-prompt"]')).click();
    await vi.waitFor(() => expect(transport.sendMessages).toHaveBeenCalledOnce());
    const { abortSignal } = transport.sendMessages.mock.calls[0]![0] as { abortSignal: AbortSignal };
    await find('[data-testid="message-assistant"]');

    (await find('[data-testid="stop-button"]')).click();

    expect(transport.stopGeneration).toHaveBeenCalledExactlyOnceWith(CHAT_ID);
    expect(abortSignal.aborted).toBe(true);
    // The composer offers Send again once this tab's stream has closed.
    await find('[data-testid="send-button"]');
  });

  it("stops a message that had not reached the agent yet as soon as it does, not before", async () => {
    transport.sendMessages.mockImplementation(() => new Promise(() => {}));
    renderChat({
      chatId: CHAT_ID,
      baseURL: "/local-trigger",
      title: undefined,
      history: undefined,
      highlightedCode: {},
    });
    (await find('[data-testid="suggested-prompt"]')).click();
    await vi.waitFor(() => expect(transport.sendMessages).toHaveBeenCalledOnce());
    const { messages } = transport.sendMessages.mock.calls[0]![0] as { messages: { id: string }[] };

    (await find('[data-testid="stop-button"]')).click();
    // A stop sent now would reach the agent before the message, which it would then answer in full.
    expect(transport.stopGeneration).not.toHaveBeenCalled();

    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"], shouldAdvanceTime: true });
    try {
      transportOptions.current!.onMessageDelivered(messages.at(-1)!.id);
      expect(transport.stopGeneration).toHaveBeenCalledExactlyOnceWith(CHAT_ID);
      transportOptions.current!.onMessageDelivered(messages.at(-1)!.id);
      expect(transport.stopGeneration).toHaveBeenCalledOnce();
      // Sent again while the turn may still be starting (a stop before it begins is not taken), then no more.
      await vi.advanceTimersByTimeAsync(5_000);
      expect(transport.stopGeneration).toHaveBeenCalledTimes(4);
    } finally {
      vi.useRealTimers();
    }
  });

  it("stops an answer the page picked up after a reload", async () => {
    transport.reconnectToStream.mockImplementation(async ({ abortSignal }: { abortSignal?: AbortSignal }) =>
      openAnswer(abortSignal),
    );
    renderChat({
      chatId: CHAT_ID,
      baseURL: "/local-trigger",
      title: "Hi",
      highlightedCode: {},
      history: {
        messages: [{ id: "u1", role: "user", parts: [{ type: "text", text: "Hi" }] }],
        nextCursor: undefined,
        session: { publicAccessToken: "chat-token", lastEventId: "41" },
      },
    });

    const stopButton = await find('[data-testid="stop-button"]');
    expect(transport.reconnectToStream).toHaveBeenCalledExactlyOnceWith(expect.objectContaining({ chatId: CHAT_ID }));
    const { abortSignal } = transport.reconnectToStream.mock.calls[0]![0] as { abortSignal: AbortSignal };

    stopButton.click();

    expect(transport.stopGeneration).toHaveBeenCalledExactlyOnceWith(CHAT_ID);
    expect(abortSignal.aborted).toBe(true);
    expect(transport.sendMessages).not.toHaveBeenCalled();
  });

  it("marks the stopped answer, offers Continue and Regenerate, and keeps the keyboard in the composer", async () => {
    renderChat({
      chatId: CHAT_ID,
      baseURL: "/local-trigger",
      title: undefined,
      history: undefined,
      highlightedCode: {},
    });
    (await find('[data-testid="suggested-prompt"]')).click();
    await find('[data-testid="message-assistant"]');
    (await find('[data-testid="stop-button"]')).click();

    const marker = await find('[data-testid="stopped-marker"]');
    expect(marker.textContent).toContain("Stopped");
    expect(document.activeElement).toBe(container.querySelector('[data-testid="composer-input"]'));
    expect(container.querySelector('[data-testid="chat-status"]')?.textContent).toBe("Answer stopped.");

    const continueButton = [...marker.querySelectorAll("button")].find((button) => button.textContent === "Continue")!;
    continueButton.click();
    await vi.waitFor(() => expect(transport.sendMessages).toHaveBeenCalledTimes(2));
    const { messages } = transport.sendMessages.mock.calls[1]![0] as {
      messages: { role: string; parts: { text?: string }[] }[];
    };
    expect(messages.at(-1)).toMatchObject({ role: "user", parts: [{ type: "text", text: "Continue" }] });
    await vi.waitFor(() => expect(container.querySelector('[data-testid="stopped-marker"]')).toBeNull());
  });

  it("queues a message typed while the answer is written, through the SDK's steering path, with the model choice", async () => {
    renderChat({
      chatId: CHAT_ID,
      baseURL: "/local-trigger",
      title: undefined,
      history: undefined,
      highlightedCode: {},
    });
    (await find('[data-testid="suggested-prompt"]')).click();
    await find('[data-testid="message-assistant"]');
    const input = (await find('[data-testid="composer-input"]')) as HTMLTextAreaElement;

    const setValue = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, "value")!.set!;
    setValue.call(input, "A second question");
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));

    const queued = await find('[data-testid="queued-message"][data-state="queued"]');
    expect(queued.textContent).toContain("A second question");
    expect(queued.textContent).toContain("Queued");
    expect(input.value).toBe("");
    expect(transport.sdk.sendPendingMessage).toHaveBeenCalledExactlyOnceWith(
      CHAT_ID,
      expect.objectContaining({ role: "user", parts: [{ type: "text", text: "A second question" }] }),
      { model: "offline:offline-chat" },
    );
    // The answer being written goes on: no second turn is started from here.
    expect(transport.sendMessages).toHaveBeenCalledOnce();
    expect(container.querySelector('[data-testid="composer-hint"]')).toBeNull();
  });

  it("says the answer is still coming when no word has arrived for a while, and stops saying it when words come", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"], shouldAdvanceTime: true });
    try {
      let push: ((delta: string) => void) | undefined;
      transport.sendMessages.mockImplementation(
        async ({ abortSignal }: { abortSignal?: AbortSignal }) =>
          new ReadableStream<UIMessageChunk>({
            start(controller) {
              controller.enqueue({ type: "start", messageId: "a1" });
              controller.enqueue({ type: "text-start", id: "t1" });
              controller.enqueue({ type: "text-delta", id: "t1", delta: "Thinking" });
              push = (delta) => controller.enqueue({ type: "text-delta", id: "t1", delta });
              abortSignal?.addEventListener("abort", () => controller.close());
            },
          }),
      );
      renderChat({
        chatId: CHAT_ID,
        baseURL: "/local-trigger",
        title: undefined,
        history: undefined,
        highlightedCode: {},
      });
      (await find('[data-testid="suggested-prompt"]')).click();
      await find('[data-testid="message-assistant"]');
      expect(container.querySelector('[data-testid="connection-notice"]')).toBeNull();

      await vi.advanceTimersByTimeAsync(7_000);
      expect(container.querySelector('[data-testid="connection-notice"]')).toBeNull();
      await vi.advanceTimersByTimeAsync(1_500);
      expect((await find('[data-testid="connection-notice"]')).textContent).toContain("Still waiting for the answer");

      push!(" more words");
      await vi.advanceTimersByTimeAsync(100);
      await vi.waitFor(() => expect(container.querySelector('[data-testid="connection-notice"]')).toBeNull());
    } finally {
      vi.useRealTimers();
    }
  });
});
