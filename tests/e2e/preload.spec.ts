import { ChatPage, expect, test } from "./fixtures";

// A new chat's session and run start at its first keystroke (transport.preload), so Send finds the agent ready.
test("typing a new chat's first message starts the chat, which is listed once that message is sent", async ({
  page,
}) => {
  const chat = new ChatPage(page);
  const starts: (string | null)[] = [];
  page.on("request", (request) => {
    if (request.method() === "POST" && new URL(request.url()).pathname.endsWith("/session"))
      starts.push(request.postData());
  });
  await chat.open();
  await chat.hydrated();
  const response = page.waitForResponse((candidate) => new URL(candidate.url()).pathname.endsWith("/session"));
  await chat.input.pressSequentially("Hi");
  // Started while typing, with no title yet; a draft stays out of the sidebar.
  expect((await response).status()).toBe(200);
  expect(starts).toEqual(["{}"]);
  await expect(chat.sidebar.item(chat.chatId())).toHaveCount(0);

  await chat.input.pressSequentially(" there, *friend*");
  await chat.input.press("Enter");
  await chat.messages.waitForAnswer();
  // The first message names the chat.
  await expect(chat.sidebar.item(chat.chatId())).toHaveText("Hi there, friend");
  expect(starts).toEqual(["{}", JSON.stringify({ title: "Hi there, *friend*" })]);

  await page.reload();
  await expect(chat.sidebar.item(chat.chatId())).toHaveText("Hi there, friend");
  await expect(chat.userMessages).toHaveText(["Hi there, *friend*"]);
  await chat.expectComplete();
});
