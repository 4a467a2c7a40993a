import { ANSWER_END, CHAT_URL, ChatPage, expect, LONG_PROMPT, needsOfflineModel, test } from "./fixtures";

test.describe("chatting", () => {
  test("a new visitor lands on an empty chat and sees the answer stream in", async ({ page }) => {
    needsOfflineModel("checks that the offline model quotes the message as markdown");
    const chat = new ChatPage(page);
    await chat.open();
    await expect(page.getByRole("heading", { name: "How can I help you today?" })).toBeVisible();
    await expect(page.getByTestId("suggested-prompt")).toHaveCount(4);

    await chat.send("What is streaming?");

    await expect(chat.userMessages).toHaveText(["What is streaming?"]);
    await expect(chat.stopButton).toBeVisible();
    await chat.expectGrowing(4);
    await chat.expectComplete();
    await expect(chat.answers).toHaveCount(1);
    await expect(chat.input).toBeEditable();
    // Markdown is rendered, not shown raw.
    await expect(chat.answer().locator("blockquote")).toHaveText("What is streaming?");
    await expect(chat.answer()).not.toContainText("**");
  });

  test("a suggested prompt starts the conversation", async ({ page }) => {
    const chat = new ChatPage(page);
    await chat.open();
    const suggestion = page.getByTestId("suggested-prompt").first();
    await expect(async () => {
      await suggestion.click();
      await expect(chat.userMessages).toHaveCount(1, { timeout: 500 });
    }).toPass();
    await chat.expectComplete();
  });

  test("Shift+Enter adds a line instead of sending", async ({ page }) => {
    const chat = new ChatPage(page);
    await chat.open();
    await expect(async () => {
      await chat.input.fill("first line");
      await expect(chat.sendButton).toBeEnabled({ timeout: 500 });
    }).toPass();
    await chat.input.press("Shift+Enter");
    await chat.input.pressSequentially("second line");
    await expect(chat.input).toHaveValue("first line\nsecond line");
    await expect(chat.userMessages).toHaveCount(0);

    await chat.input.press("Enter");
    await expect(chat.userMessages).toHaveText(["first line\nsecond line"]);
    await chat.expectComplete();
  });

  test("Stop halts the answer mid-stream, and the next message still works", async ({ page }) => {
    needsOfflineModel();
    const chat = new ChatPage(page);
    await chat.open();
    await chat.send(LONG_PROMPT);
    await chat.expectGrowing(3);

    await chat.stopButton.click();
    await expect(chat.sendButton).toBeVisible();
    const shownAtStop = await chat.answerLength();
    // Once the agent has saved the stopped turn, the page shows the saved answer: at most the word or two
    // the agent wrote before the stop reached it. Then nothing more arrives.
    await page.waitForTimeout(1_500);
    const stoppedAt = await chat.answerLength();
    expect(stoppedAt - shownAtStop).toBeLessThan(40);
    await chat.expectFrozen(stoppedAt);
    await expect(chat.answer()).not.toContainText(ANSWER_END);

    await chat.send("And a follow-up question");
    await expect(chat.answers).toHaveCount(2);
    await chat.expectComplete();
    await expect(chat.answer()).toContainText("This is turn 2 of our conversation");
    expect(await chat.answerLength(0)).toBe(stoppedAt);
  });

  test("a reload mid-stream picks the same answer up and finishes it, without repeating any text", async ({ page }) => {
    needsOfflineModel();
    const chat = new ChatPage(page);
    await chat.open();
    await chat.send(LONG_PROMPT);
    await chat.expectGrowing(2);
    await expect(chat.answer()).not.toContainText(ANSWER_END);

    await page.reload();

    await expect(chat.userMessages).toHaveText([LONG_PROMPT]);
    await expect(chat.stopButton).toBeVisible();
    await chat.expectGrowing(2);
    await chat.expectComplete();
    await expect(chat.answers).toHaveCount(1);
    await expect(chat.userMessages).toHaveCount(1);
    const text = await chat.answer().innerText();
    expect(text.split("This is turn 1 of our conversation")).toHaveLength(2);
    expect(text.split(ANSWER_END)).toHaveLength(2);
  });

  test("a reload mid-answer of a second turn shows the first turn once and finishes the second", async ({ page }) => {
    needsOfflineModel();
    const chat = new ChatPage(page);
    await chat.open();
    await chat.send("Remember this");
    await chat.expectComplete();
    const firstAnswer = await chat.answer().innerText();
    await chat.send(LONG_PROMPT);
    await expect(chat.answers).toHaveCount(2);
    await chat.expectGrowing(2);
    await expect(chat.answer()).not.toContainText(ANSWER_END);

    await chat.recordMostMessages();
    await page.reload();

    await expect(chat.userMessages).toHaveText(["Remember this", LONG_PROMPT]);
    await expect(chat.stopButton).toBeVisible();
    await chat.expectGrowing(2);
    await chat.expectComplete();
    await expect(chat.answers).toHaveCount(2);
    await expect(chat.answer(0)).toHaveText(firstAnswer);
    const second = await chat.answer(1).innerText();
    expect(second).not.toContain("This is turn 1 of our conversation");
    expect(second.split("This is turn 2 of our conversation")).toHaveLength(2);
    expect(second.split(ANSWER_END)).toHaveLength(2);
    expect(await chat.mostMessages()).toEqual({ user: 2, assistant: 2 });
  });

  test("Stop after a reload stops the agent too, not just this tab", async ({ page, apiPost }) => {
    needsOfflineModel();
    const chat = new ChatPage(page);
    await chat.open();
    await chat.send(LONG_PROMPT);
    await chat.expectGrowing(2);
    await page.reload();
    await expect(chat.stopButton).toBeVisible();
    await chat.expectGrowing(1);

    await chat.stopButton.click();
    await expect(chat.sendButton).toBeVisible();
    const shownAtStop = await chat.answerLength();
    // As above: once saved, the answer may hold the word or two the agent wrote before the stop reached it.
    await page.waitForTimeout(1_500);
    const stoppedAt = await chat.answerLength();
    expect(stoppedAt - shownAtStop).toBeLessThan(40);
    await chat.expectFrozen(stoppedAt);

    // Had the agent kept writing, its saved answer would be complete by now.
    await page.waitForTimeout(2_000);
    const saved = await apiPost(page.request, `/api/chats/${chat.chatId()}/transcript`);
    const { messages } = (await saved.json()) as {
      messages: { role: string; parts: { type: string; text?: string }[] }[];
    };
    expect(messages.map((message) => message.role)).toEqual(["user", "assistant"]);
    const savedAnswer = messages[1]!.parts.map((part) => part.text ?? "").join("");
    expect(savedAnswer.length).toBeGreaterThan(0);
    expect(savedAnswer).not.toContain(ANSWER_END);

    await page.reload();
    await expect(chat.answers).toHaveCount(1);
    await expect(chat.sendButton).toBeVisible();
    await expect(chat.answer()).not.toContainText(ANSWER_END);
    await chat.send("Still there?");
    await expect(chat.answers).toHaveCount(2);
    await chat.expectComplete();
  });

  test("a reload after the answer shows the conversation once and is ready for more", async ({ page }) => {
    needsOfflineModel();
    const chat = new ChatPage(page);
    await chat.open();
    await chat.send("Remember this");
    await chat.expectComplete();
    const answer = await chat.answer().innerText();

    await page.reload();

    await expect(chat.userMessages).toHaveText(["Remember this"]);
    await expect(chat.answers).toHaveCount(1);
    await expect(chat.answer()).toHaveText(answer);
    await expect(page.getByTestId("typing-indicator")).toHaveCount(0);
    // Give a late resume the chance to add anything, then check again.
    await page.waitForTimeout(1_000);
    await expect(chat.answers).toHaveCount(1);
    await expect(chat.answer()).toHaveText(answer);

    await chat.send("And now?");
    await expect(chat.answers).toHaveCount(2);
    await chat.expectComplete();
    await expect(chat.answer()).toContainText("This is turn 2 of our conversation");
    await expect(page).toHaveURL(CHAT_URL);
  });

  test("a reload after a second turn shows both turns once", async ({ page }) => {
    const chat = new ChatPage(page);
    await chat.open();
    await chat.send("Remember this");
    await chat.expectComplete();
    await chat.send("And this");
    await expect(chat.answers).toHaveCount(2);
    await chat.expectComplete();
    const answers = await chat.answers.allInnerTexts();

    await chat.recordMostMessages();
    await page.reload();

    await expect(chat.userMessages).toHaveText(["Remember this", "And this"]);
    await expect(chat.answers).toHaveText(answers);
    await expect(page.getByTestId("typing-indicator")).toHaveCount(0);
    // Give a late resume the chance to add anything, then check again.
    await page.waitForTimeout(1_000);
    await expect(chat.userMessages).toHaveText(["Remember this", "And this"]);
    await expect(chat.answers).toHaveText(answers);
    expect(await chat.mostMessages()).toEqual({ user: 2, assistant: 2 });
  });

  test("each message's answer stream is requested with the message, not after the server has taken it", async ({
    page,
  }) => {
    const chat = new ChatPage(page);
    await chat.open();
    const events: string[] = [];
    page.on("request", (request) => {
      if (request.url().endsWith("/in/append")) events.push("message sent");
      if (request.url().endsWith("/out")) events.push("stream requested");
    });
    // A slow network's round trip, on the message only: its answer stream must not wait for it.
    await page.route("**/in/append", async (route) => {
      const response = await route.fetch();
      await new Promise((resolve) => setTimeout(resolve, 500));
      events.push("message taken");
      await route.fulfill({ response });
    });

    for (const message of ["First question", "A follow-up"]) {
      events.length = 0;
      await chat.send(message);
      await chat.expectComplete();
      expect(events.slice(0, 3).sort()).toEqual(["message sent", "stream requested", "message taken"].sort());
      expect(events.indexOf("stream requested")).toBeLessThan(events.indexOf("message taken"));
      // The one stream carried the answer: the transport asked for no other.
      expect(events.filter((event) => event === "stream requested")).toHaveLength(1);
    }
    await expect(chat.answers).toHaveCount(2);
  });
});

test.describe("failures", () => {
  test("a message that could not be sent shows the error, and Retry sends it", async ({ page, browserErrors }) => {
    needsOfflineModel();
    const chat = new ChatPage(page);
    await chat.open();
    browserErrors.expect(/Failed to load resource: the server responded with a status of 500/);
    // Twice: typing starts the chat early, and a failure there is retried by Send.
    await page.route(
      "**/api/chats/*/session",
      (route) => route.fulfill({ status: 500, json: { error: "Internal details" } }),
      { times: 2 },
    );

    await chat.send("Hello?");

    const alert = page.getByRole("alert");
    await expect(alert).toContainText("The server couldn’t complete the request. Please try again.");
    await expect(chat.answers).toHaveCount(0);

    await alert.getByRole("button", { name: "Retry the last message" }).click();
    await expect(alert).toBeHidden();
    await chat.expectComplete();
    await expect(chat.userMessages).toHaveText(["Hello?"]);
    await expect(chat.answers).toHaveCount(1);
    await expect(chat.answer()).toContainText("This is turn 1 of our conversation");
  });
});
