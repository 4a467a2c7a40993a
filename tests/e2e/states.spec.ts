import { AppServer } from "./app-server";
import { ANSWER_END, ChatPage, expect, LONG_PROMPT, needsLocalServer, needsOfflineModel, test } from "./fixtures";

test.describe("what the page says about an answer", () => {
  test("a stopped answer says so, also after a reload, and Continue asks for the rest", async ({ page }) => {
    needsOfflineModel();
    const chat = new ChatPage(page);
    await chat.open();
    await chat.send(LONG_PROMPT);
    await chat.expectGrowing(3);
    await chat.stopButton.click();

    const marker = chat.answer().getByTestId("stopped-marker");
    await expect(marker).toContainText("Stopped");
    await expect(page.getByTestId("chat-status")).toHaveText("Answer stopped.");
    await expect(chat.input).toBeFocused();
    await expect(chat.answer()).not.toContainText(ANSWER_END);

    await page.reload();
    await expect(chat.answers).toHaveCount(1);
    await expect(marker).toContainText("Stopped");
    await expect(chat.answer()).not.toContainText(ANSWER_END);

    await marker.getByRole("button", { name: "Continue" }).click();
    await expect(chat.userMessages).toHaveText([LONG_PROMPT, "Continue"]);
    await chat.expectComplete();
    await expect(chat.answers).toHaveCount(2);
    await expect(page.getByTestId("stopped-marker")).toHaveCount(1);
    await expect(chat.input).toBeFocused();
  });

  test("Regenerate writes a stopped answer again, in its place", async ({ page }) => {
    needsOfflineModel("stops a long answer of the offline model mid-stream");
    const chat = new ChatPage(page);
    await chat.open();
    await chat.send(LONG_PROMPT);
    await chat.expectGrowing(2);
    await chat.stopButton.click();
    await chat.answer().getByTestId("stopped-marker").getByRole("button", { name: "Regenerate" }).click();

    await chat.expectComplete();
    await expect(chat.userMessages).toHaveText([LONG_PROMPT]);
    await expect(chat.answers).toHaveCount(1);
    await expect(page.getByTestId("stopped-marker")).toHaveCount(0);
    await page.reload();
    await chat.expectComplete();
    await expect(chat.answers).toHaveCount(1);
    await expect(page.getByTestId("stopped-marker")).toHaveCount(0);
  });

  test("going offline mid-answer says so, and the answer completes once the connection is back", async ({
    page,
    context,
    browserErrors,
  }) => {
    needsOfflineModel("goes offline while the offline model's long answer streams");
    // A request the page makes in that second (the stream's retry, a script it loads) fails, and the browser logs
    // it. Which one was not caught: 2 of 3 full runs in one session logged it, 12 targeted runs did not.
    browserErrors.expect(/ERR_INTERNET_DISCONNECTED/);
    const chat = new ChatPage(page);
    await chat.open();
    await chat.send(LONG_PROMPT);
    await chat.expectGrowing(2);

    await context.setOffline(true);
    await expect(page.getByTestId("connection-notice")).toHaveText(/You’re offline/);
    await expect(page.getByTestId("chat-status")).toHaveText(/You’re offline/);
    await page.waitForTimeout(1_000);
    await context.setOffline(false);

    await expect(page.getByTestId("connection-notice")).toBeHidden();
    await chat.expectComplete();
    await expect(chat.answers).toHaveCount(1);
    const streamed = await chat.answer().innerText();
    await page.reload();
    await chat.hydrated();
    await chat.expectComplete();
    expect(await chat.answer().innerText()).toBe(streamed);
  });

  test("a stopped answer shows the words the agent saved, the same live and after a reload", async ({ page }) => {
    needsOfflineModel("stops a long answer of the offline model mid-stream");
    const chat = new ChatPage(page);
    await chat.open();
    await chat.send(LONG_PROMPT);
    await chat.expectGrowing(2);
    await chat.stopButton.click();
    await expect(chat.answer().getByTestId("stopped-marker")).toBeVisible();
    await page.waitForTimeout(2_000);
    const live = await chat.answers.allInnerTexts();
    await page.reload();
    await chat.hydrated();
    await expect(chat.answer().getByTestId("stopped-marker")).toBeVisible();
    expect(await chat.answers.allInnerTexts()).toEqual(live);
  });

  test("offline with no answer running, the page says so, and a send says the server could not be reached", async ({
    page,
    context,
    browserErrors,
  }) => {
    browserErrors.expect(/ERR_INTERNET_DISCONNECTED|Failed to fetch/);
    const chat = new ChatPage(page);
    await chat.open();
    await chat.send("Hello");
    await chat.expectComplete();
    await context.setOffline(true);
    await expect(page.getByTestId("connection-notice")).toHaveText(
      "You’re offline. Messages can be sent once the connection is back.",
    );
    await chat.send("Sent while offline");
    await expect(page.getByTestId("chat-error")).toContainText(
      "Couldn’t reach the server. Check your connection and try again.",
    );
    await expect(page.getByTestId("chat-status")).not.toHaveText("The assistant is thinking.");
    await context.setOffline(false);
    await expect(page.getByTestId("connection-notice")).toBeHidden();
    await page.getByRole("button", { name: "Retry the last message" }).click();
    await chat.expectComplete();
    await expect(chat.userMessages).toHaveText(["Hello", "Sent while offline"]);
  });
});

// A slow model (60 ms a word) and a long answer, so there is time to scroll away while it streams.
test.describe("a long answer on a short screen", () => {
  needsLocalServer("starts a server of its own with a slow offline model");
  let server: AppServer;
  test.beforeAll(async () => {
    server = await AppServer.start({ wordDelayMs: 60 });
  });
  test.afterAll(async () => {
    await server.close();
  });

  test("scrolling up stops the follow and offers a jump back to the answer", async ({ page }) => {
    await page.setViewportSize({ width: 1000, height: 600 });
    const chat = new ChatPage(page);
    await chat.open(server.url);
    await chat.send("/long 600");
    const jump = page.getByTestId("jump-to-latest");
    const scroller = page.locator(".overflow-y-auto").filter({ has: chat.answers });
    const distanceFromBottom = () =>
      scroller.evaluate((element) => element.scrollHeight - element.scrollTop - element.clientHeight);

    // While it follows the answer, the newest words stay in view and there is nothing to jump to.
    await chat.expectGrowing(3);
    await expect
      .poll(() => scroller.evaluate((element) => element.scrollHeight > element.clientHeight * 1.5), {
        timeout: 30_000,
      })
      .toBe(true);
    expect(await distanceFromBottom()).toBeLessThan(80);
    await expect(jump).toBeHidden();

    await scroller.hover();
    await page.mouse.wheel(0, -2_000);
    await expect(jump).toHaveText("Jump to the answer");
    // Scrolled up, the reader keeps their place while the answer grows below.
    const top = await scroller.evaluate((element) => element.scrollTop);
    await chat.expectGrowing(2);
    expect(await scroller.evaluate((element) => element.scrollTop)).toBe(top);

    await jump.click();
    await expect(jump).toBeHidden();
    await expect.poll(distanceFromBottom).toBeLessThan(80);
    await expect(chat.input).toBeFocused();
    // Following again: still at the bottom as more words arrive.
    await chat.expectGrowing(2);
    await expect.poll(distanceFromBottom).toBeLessThan(80);
    await chat.stopButton.click();
  });
});

// A fast model (1 ms a word), so a chat longer than one transcript page (50 messages) is quick to write.
test.describe("a chat longer than one page", () => {
  needsLocalServer("starts a server of its own with a fast offline model");
  let server: AppServer;
  test.beforeAll(async () => {
    server = await AppServer.start({ wordDelayMs: 1 });
  });
  test.afterAll(async () => {
    await server.close();
  });

  test("Load earlier puts the earlier messages above and keeps the reader's place", async ({ page }) => {
    test.setTimeout(120_000);
    const chat = new ChatPage(page);
    await chat.open(server.url);
    for (let turn = 1; turn <= 26; turn++) {
      await chat.send(`Message ${turn}`);
      await expect(chat.answers).toHaveCount(turn);
      await chat.expectComplete();
    }
    await page.reload();
    await chat.hydrated();
    await expect(chat.userMessages.first()).toHaveText("Message 2");

    const loadEarlier = page.getByRole("button", { name: "Load earlier messages" });
    await loadEarlier.scrollIntoViewIfNeeded();
    const reading = chat.userMessages.filter({ hasText: /^Message 2$/ });
    const before = (await reading.boundingBox())!.y;
    await loadEarlier.click();

    await expect(chat.userMessages.first()).toHaveText("Message 1");
    await expect(loadEarlier).toBeHidden();
    expect(Math.abs((await reading.boundingBox())!.y - before)).toBeLessThan(4);
  });
});
