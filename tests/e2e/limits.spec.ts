import { randomUUID } from "node:crypto";
import { ChatPage, expect, needsLocalServer, test } from "./fixtures";

test.describe("rate limits", () => {
  test("starting chats too quickly: the 429 reaches the page with its message, and the text stays in the composer", async ({
    page,
    apiPost,
    browserErrors,
  }) => {
    needsLocalServer("drives the server into its rate limits, which would shut this address out of a deployment");
    browserErrors.expect(/Failed to load resource: the server responded with a status of 429/);
    const chat = new ChatPage(page);
    await chat.open();

    // The same guest (the page's cookies) starts chats from a script until the server says stop.
    let started = 0;
    let refusal: Awaited<ReturnType<typeof apiPost>> | undefined;
    while (!refusal && started < 500) {
      const response = await apiPost(page.request, `/api/chats/${randomUUID()}/session`);
      if (response.status() === 429) refusal = response;
      else {
        expect(response.status()).toBe(200);
        started++;
      }
    }
    expect(refusal, "a refusal before 500 starts").toBeDefined();
    expect(Number(refusal!.headers()["retry-after"])).toBeGreaterThanOrEqual(1);

    await chat.input.fill("Hello after the limit");
    await chat.input.press("Enter");
    await expect(page.getByRole("alert")).toContainText(
      /You’re starting chats too quickly\. Please wait \d+ s and try again\./,
    );
    await expect(chat.input).toHaveValue("Hello after the limit");
    await expect(chat.userMessages).toHaveCount(0);
    await expect(page.getByRole("button", { name: "Retry the last message" })).toHaveCount(0);
  });

  test("sending messages too quickly: the message comes back to the composer and goes out once the wait is over", async ({
    page,
    browserErrors,
  }) => {
    browserErrors.expect(/Failed to load resource: the server responded with a status of 429/);
    const chat = new ChatPage(page);
    await chat.open();
    await chat.send("First message");
    await chat.expectComplete();

    const message = "You’re sending messages too quickly. Please wait 9 s and try again.";
    await page.route(
      "**/in/append",
      (route) =>
        route.fulfill({
          status: 429,
          json: { error: message },
          headers: { "Retry-After": "9", "x-should-retry": "false" },
        }),
      {
        times: 1,
      },
    );
    // Not chat.send(): that waits for the composer to empty, and here the text comes straight back.
    await chat.input.fill("Second message");
    await chat.input.press("Enter");
    await expect(page.getByRole("alert")).toHaveText(message);
    await expect(chat.input).toHaveValue("Second message");
    await expect(chat.userMessages).toHaveText(["First message"]);

    await chat.input.press("Enter");
    await expect(page.getByRole("alert")).toBeHidden();
    await expect(chat.userMessages).toHaveText(["First message", "Second message"]);
    await expect(chat.answers).toHaveCount(2);
    await chat.expectComplete();
  });
});
