import type { Page } from "@playwright/test";
import { ANSWER_END, ChatPage, expect, LONG_PROMPT, needsOfflineModel, test } from "./fixtures";

/** The user messages and answers a page shows, in order, as text. */
async function conversation(chat: ChatPage) {
  return { questions: await chat.userMessages.allInnerTexts(), answers: await chat.answers.allInnerTexts() };
}

/** A second tab of the same browser (same cookie, same BroadcastChannel) on `url`, recording the most messages it ever shows. */
async function openSecondTab(page: Page, url: string) {
  const second = new ChatPage(await page.context().newPage());
  await second.recordMostMessages();
  await second.page.goto(url);
  // From then on the tab hears the other.
  await second.hydrated();
  return second;
}

/** A chat with one finished turn, open in two tabs: the one that sent it, and a second one loaded after. */
async function chatInTwoTabs(page: Page, firstMessage: string) {
  const first = new ChatPage(page);
  await first.open();
  await first.send(firstMessage);
  await first.expectComplete();
  const second = await openSecondTab(page, page.url());
  await second.expectComplete();
  return { first, second };
}

test.describe("one chat in two tabs", () => {
  needsOfflineModel("follows the offline model's long answers from tab to tab by their words");
  test("the tab that did not send follows the other's turn live, and its own turn shows only its own answer", async ({
    page,
  }) => {
    const { first, second } = await chatInTwoTabs(page, "Where do we start?");

    // The first tab sends: the second shows the question and the answer as it streams, and waits to send.
    await first.send(LONG_PROMPT);
    await expect(second.userMessages).toHaveText(["Where do we start?", LONG_PROMPT]);
    await expect(second.answers).toHaveCount(2);
    await expect(second.page.getByTestId("composer-hint")).toContainText("answering in another tab");
    await expect(second.stopButton).toBeVisible();
    await first.expectComplete();
    // Every word of it, not a copy cut off where the first tab stopped sharing.
    await expect(second.answer()).toContainText(ANSWER_END);
    await expect(second.page.getByTestId("composer-hint")).toBeHidden();
    await expect(second.page.getByTestId("chat-status")).toHaveText("Answer complete.");
    expect(await second.answer().innerText()).toBe(await first.answer().innerText());

    // Now the second tab sends: its answer is its own, with nothing of the first tab's turn replayed into it.
    await second.send("And from the second tab?");
    await second.expectComplete();
    const seen = await conversation(second);
    expect(seen.questions).toEqual(["Where do we start?", LONG_PROMPT, "And from the second tab?"]);
    expect(seen.answers).toHaveLength(3);
    expect(seen.answers[2]).toContain("And from the second tab?");
    expect(seen.answers[2]).not.toContain("durable chat stream");
    expect(await second.mostMessages()).toEqual({ user: 3, assistant: 3 });

    // The first tab followed it too, and both agree with what a fresh load of the chat shows.
    await expect(first.userMessages).toHaveText(seen.questions);
    await expect(first.answer()).toContainText(ANSWER_END);
    expect(await conversation(first)).toEqual(seen);
    await second.page.reload();
    await second.hydrated();
    await second.expectComplete();
    expect(await conversation(second)).toEqual(seen);
  });

  test("a tab opened on a new chat before its first message follows it, and replays nothing into its own turn", async ({
    page,
  }) => {
    const first = new ChatPage(page);
    // A browser with no guest cookie yet: the first tab's start mints it, and the second tab must not mint another.
    await first.open();
    const second = await openSecondTab(page, page.url());
    const sessionRequests: string[] = [];
    second.page.on("request", (request) => {
      if (request.url().endsWith("/session")) sessionRequests.push(request.url());
    });
    await expect(second.page.getByRole("heading", { name: "How can I help you today?" })).toBeVisible();

    await first.send("The very first message");
    await first.expectComplete();
    await expect(second.userMessages).toHaveText(["The very first message"]);
    await expect(second.answer()).toContainText(ANSWER_END);

    await second.send("A reply from the second tab");
    await second.expectComplete();
    const seen = await conversation(second);
    expect(seen.questions).toEqual(["The very first message", "A reply from the second tab"]);
    expect(seen.answers).toHaveLength(2);
    expect(seen.answers[1]).not.toContain("The very first message");
    expect(await second.mostMessages()).toEqual({ user: 2, assistant: 2 });
    expect(sessionRequests).toHaveLength(1);
    // Still the same guest's chat: a fresh load of it shows the whole conversation.
    await first.page.reload();
    await first.hydrated();
    await first.expectComplete();
    expect(await conversation(first)).toEqual(seen);
  });

  test("Stop in the tab that did not send stops the other tab's answer, and both say it was stopped", async ({
    page,
  }) => {
    const { first, second } = await chatInTwoTabs(page, "Hello");

    await first.send(LONG_PROMPT);
    await first.expectGrowing(2);
    await expect(second.stopButton).toBeVisible();
    await second.stopButton.click();

    await expect(first.sendButton).toBeVisible();
    await expect(first.answer().getByTestId("stopped-marker")).toBeVisible();
    await expect(second.answer().getByTestId("stopped-marker")).toBeVisible();
    await expect(second.sendButton).toBeVisible();
    await expect(first.page.getByTestId("chat-status")).toHaveText("Answer stopped.");
    await expect(second.page.getByTestId("chat-status")).toHaveText("Answer stopped.");
    expect(await first.answer().innerText()).not.toContain(ANSWER_END);
  });

  test("when the tab that sent is closed mid-answer, the other tab shows the rest, and its own next turn only its own answer", async ({
    page,
  }) => {
    const { first, second } = await chatInTwoTabs(page, "Hello");

    await first.send(LONG_PROMPT);
    await first.expectGrowing(2);
    await expect(second.answers).toHaveCount(2);
    await first.page.close({ runBeforeUnload: true });

    // The second tab takes the answer over from the server and shows it whole.
    await expect(second.answer()).toContainText(ANSWER_END, { timeout: 30_000 });
    await second.expectComplete();
    await expect(second.answers).toHaveCount(2);

    await second.send("Now from the tab that stayed");
    await second.expectComplete();
    const seen = await conversation(second);
    expect(seen.questions).toEqual(["Hello", LONG_PROMPT, "Now from the tab that stayed"]);
    expect(seen.answers).toHaveLength(3);
    expect(seen.answers[2]).toContain("This is turn 3 of our conversation");
    expect(seen.answers[2]).not.toContain("durable chat stream");
    await second.page.reload();
    await second.hydrated();
    await second.expectComplete();
    expect(await conversation(second)).toEqual(seen);
  });
});
