import {
  geminiAnswer,
  geminiRateLimited,
  startGeminiStandIn,
  type GeminiStandIn,
} from "../../app/local-trigger/testing/gemini-stand-in";
import { AppServer } from "./app-server";
import { ChatPage, expect, test } from "./fixtures";

/*
 * The production build with CHAT_MODEL=google:gemini-2.5-flash, its agent's
 * `@ai-sdk/google` pointed at the local Gemini stand-in by
 * GOOGLE_GENERATIVE_AI_BASE_URL: Gemini's streamed answer on the page, and
 * Gemini's 429 as a plain sentence, with the raw error only in the server's log.
 */

const RATE_LIMITED = "The model is busy (rate limited). Try again in a moment.";

let standIn: GeminiStandIn;
let server: AppServer;

test.beforeAll(async () => {
  standIn = await startGeminiStandIn();
  server = await AppServer.start({
    env: {
      CHAT_MODEL: "google:gemini-2.5-flash",
      GOOGLE_GENERATIVE_AI_API_KEY: "test-key-not-real",
      GOOGLE_GENERATIVE_AI_BASE_URL: standIn.baseURL,
    },
  });
});

test.afterAll(async () => {
  await server?.close();
  await standIn?.close();
});

test("Gemini's answer streams onto the page, and its 429 reads as a plain sentence", async ({ page }) => {
  const chat = new ChatPage(page);
  const answer =
    "Gemini here. A durable stream keeps every word of this answer in order, so a reload picks it up " +
    "exactly where the saved transcript ends, and nothing is shown twice.";
  const thought = "Planning the reply: mention reloads and ordering.";
  standIn.reply(geminiAnswer(answer, { thoughts: [thought], wordsPerChunk: 2, chunkDelayMs: 80 }));

  await chat.open(server.url);
  await chat.hydrated();
  await chat.send("How does a durable stream survive a reload?");

  await chat.expectGrowing(3);
  await expect(chat.answer().locator(".markdown")).toHaveText(answer);
  await expect(chat.stopButton).toBeHidden();
  // The thought is the answer's reasoning, collapsed above it, not part of its text.
  await expect(chat.answer().locator(".markdown")).not.toContainText(thought);
  await expect(chat.answer().getByTestId("reasoning-text")).toHaveText(thought);
  await expect(chat.answer().getByTestId("reasoning-text")).toBeHidden();
  await expect(chat.answer().getByTestId("offline-badge")).toHaveCount(0);
  expect(standIn.requests.at(-1)?.body.contents.at(-1)).toEqual({
    role: "user",
    parts: [{ text: "How does a durable stream survive a reload?" }],
  });
  // The agent asked Gemini for the chat's title beside the answer, and the sidebar and the tab show it.
  const title = "Gemini on How does a";
  await expect(chat.sidebar.item(chat.chatId())).toHaveText(title);
  await expect(page).toHaveTitle(`${title} · Chat`);
  expect(standIn.oneShotRequests).toHaveLength(1);

  // Quota used up: Gemini answers 429 to the first try and to the provider's two retries.
  standIn.replyAlways(geminiRateLimited());
  await chat.send("And after a crash?");

  const error = page.getByTestId("chat-error");
  await expect(error).toContainText(RATE_LIMITED, { timeout: 30_000 });
  await expect(page.locator("body")).not.toContainText(/RESOURCE_EXHAUSTED|quota|429/);
  expect(standIn.requests.filter((request) => request.body.contents.length === 3)).toHaveLength(3);
  // The raw error is in the server's log, as an error.
  const loggedErrors = () =>
    server
      .output()
      .split("\n")
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as { level: string; msg: string }];
        } catch {
          return [];
        }
      })
      .filter((entry) => entry.level === "error" && entry.msg.includes("Chat model stream failed"));
  await expect
    .poll(() =>
      loggedErrors().some((entry) => entry.msg.includes('"status":429') && entry.msg.includes("RESOURCE_EXHAUSTED")),
    )
    .toBe(true);

  // Once the quota is back, Retry gets the answer.
  standIn.reset();
  await error.getByRole("button", { name: "Retry the last message" }).click();
  await expect(chat.answer()).toContainText('You asked: "And after a crash?"');
  await expect(error).toBeHidden();
});
