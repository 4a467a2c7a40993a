import { prerender } from "react-dom/static";
import { beforeAll, describe, expect, it } from "vitest";
import type { ChatUIMessage } from "../../../trigger/chat";
import { loadMarkdown, MessageList, messageText } from "./message-list";

// As the server does at boot: answers render as markdown from the first render.
beforeAll(() => loadMarkdown());

const user = (text: string, id = "u1"): ChatUIMessage => ({ id, role: "user", parts: [{ type: "text", text }] });
const assistant = (text: string, metadata?: ChatUIMessage["metadata"], id = "a1"): ChatUIMessage => ({
  id,
  role: "assistant",
  metadata,
  parts: [{ type: "step-start" }, { type: "text", text }],
});

/** The server's HTML for the list, once everything has loaded (the markdown renderer is fetched lazily). */
async function render(messages: ChatUIMessage[], status: "ready" | "submitted" | "streaming" = "ready") {
  const busy = status === "submitted" || status === "streaming";
  const { prelude } = await prerender(
    <MessageList messages={messages} busy={busy} streaming={status === "streaming"} stoppedHere={undefined} />,
  );
  return new Response(prelude).text();
}

describe("MessageList", () => {
  it("shows user text as written and assistant text as Markdown", async () => {
    const html = await render([user("Is *this* raw?"), assistant("It is **bold**.")]);
    expect(html).toContain("Is *this* raw?");
    expect(html).toContain("<strong>bold</strong>");
    expect(html.match(/data-testid="message-user"/g)).toHaveLength(1);
    expect(html.match(/data-testid="message-assistant"/g)).toHaveLength(1);
  });

  it("labels fenced code with its language and offers to copy it (highlighting follows in the browser)", async () => {
    const html = await render([assistant("```ts\nconst answer: number = 42;\n```")]);
    expect(html).toContain('<span data-testid="code-language" class="font-mono">ts</span>');
    expect(html).toContain("const answer: number = 42;");
    expect(html).toContain('aria-label="Copy code"');
  });

  it("opens links from answers in a new tab without an opener", async () => {
    const html = await render([assistant("See [the docs](https://example.com).")]);
    expect(html).toContain('href="https://example.com" target="_blank" rel="noopener noreferrer"');
  });

  it("labels answers from the offline model, and only those", async () => {
    const offline = await render([assistant("Hi", { model: "offline:offline-chat", offline: true })]);
    expect(offline).toContain("Offline demo model");
    const gemini = await render([assistant("Hi", { model: "google:gemini-2.5-flash", offline: false })]);
    expect(gemini).not.toContain("Offline demo model");
  });

  it("hides the answer's actions while it streams", async () => {
    const html = await render(
      [user("Hi"), assistant("Partial", { model: "offline:offline-chat", offline: true })],
      "streaming",
    );
    expect(html).toContain('data-streaming="true"');
    expect(html).not.toContain("Offline demo model");
    expect(html).not.toContain("Copy answer");
  });

  it("shows a thinking indicator until the first chunk of the answer arrives", async () => {
    expect(await render([user("Hi")], "submitted")).toContain('data-testid="typing-indicator"');
    expect(await render([user("Hi")], "ready")).not.toContain('data-testid="typing-indicator"');
    expect(await render([user("Hi"), assistant("Hel")], "streaming")).not.toContain('data-testid="typing-indicator"');
  });
});

describe("a stopped answer", () => {
  const stopped = (text: string, id = "a1"): ChatUIMessage => ({
    id,
    role: "assistant",
    parts: [{ type: "step-start" }, { type: "text", text }, { type: "data-stopped", data: {} }],
  });
  const list = (messages: ChatUIMessage[], props: Partial<React.ComponentProps<typeof MessageList>> = {}) =>
    prerender(
      <MessageList messages={messages} busy={false} streaming={false} stoppedHere={undefined} {...props} />,
    ).then(({ prelude }) => new Response(prelude).text());
  const noop = () => {};

  it("says so when the saved answer carries the agent's stopped mark, with Continue and Regenerate on the last one", async () => {
    const html = await list([user("Hi"), stopped("Half an ans")], { onContinue: noop, onRegenerate: noop });
    expect(html).toContain('data-testid="stopped-marker"');
    expect(html).toContain(">Continue</button>");
    expect(html).toContain("Regenerate</button>");
  });

  it("marks an earlier stopped answer without offering to continue it", async () => {
    const html = await list([user("Hi"), stopped("Half", "a1"), user("Next"), assistant("Whole", undefined, "a2")], {
      onContinue: noop,
      onRegenerate: noop,
    });
    expect(html.match(/data-testid="stopped-marker"/g)).toHaveLength(1);
    expect(html).not.toContain(">Continue</button>");
  });

  it("marks the answer this tab stopped before the transcript says so", async () => {
    const html = await list([user("Hi"), assistant("Half", undefined, "a1")], {
      stoppedHere: "a1",
      onRegenerate: noop,
    });
    expect(html).toContain('data-testid="stopped-marker"');
    expect(html).toContain("Regenerate</button>");
    expect(html).not.toContain(">Continue</button>");
  });

  it("shows a stop that came before the first word on its own", async () => {
    const html = await list([user("Hi")], { stoppedHere: "", onRegenerate: noop });
    expect(html).toContain('data-testid="stopped-marker"');
    expect(await list([user("Hi")])).not.toContain('data-testid="stopped-marker"');
  });

  it("offers nothing while an answer is on its way", async () => {
    const html = await list([user("Hi"), stopped("Half")], {
      busy: true,
      streaming: true,
      onContinue: noop,
      onRegenerate: noop,
    });
    expect(html).not.toContain('data-testid="stopped-marker"');
  });
});

describe("messageText", () => {
  it("joins the text parts and skips the rest", async () => {
    const message: ChatUIMessage = {
      id: "a",
      role: "assistant",
      parts: [{ type: "text", text: "One" }, { type: "step-start" }, { type: "text", text: "Two" }],
    };
    expect(messageText(message)).toBe("One\n\nTwo");
  });
});
