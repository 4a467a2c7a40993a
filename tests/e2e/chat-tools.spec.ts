import AxeBuilder from "@axe-core/playwright";
import type { Locator, Page } from "@playwright/test";
import {
  defaultGeminiAnswerText,
  geminiAnswer,
  startGeminiStandIn,
  type GeminiStandIn,
} from "../../app/local-trigger/testing/gemini-stand-in";
import { AppServer } from "./app-server";
import {
  ANSWER_END,
  ANSWER_TIMEOUT_MS,
  ChatPage,
  expect,
  LONG_PROMPT,
  needsLocalServer,
  needsOfflineModel,
  test,
} from "./fixtures";

/*
 * Tools with a human in the loop, reasoning, the model picker and steering,
 * in Chromium on the production build, the embedded engine and the offline
 * model, which calls the tools and reasons deterministically (see
 * app/lib/ai/offline-model.ts). The agent's side is in trigger/chat-tools.test.ts.
 */

/** A tool call in the last answer, by the tool's name. */
function toolCall(chat: ChatPage, tool: string): Locator {
  return chat.answer().locator(`[data-testid="tool-call"][data-tool="${tool}"]`);
}

/** Waits for the calculator's approval request in the last answer. */
async function awaitApproval(chat: ChatPage) {
  const card = toolCall(chat, "calculate");
  await expect(card).toHaveAttribute("data-state", "approval-requested", { timeout: ANSWER_TIMEOUT_MS });
  await expect(card.getByTestId("tool-state")).toHaveText("Waiting for your approval");
  await expect(card.getByTestId("tool-input")).toHaveText("12 * (3 + 4)");
  await expect(card.getByTestId("tool-output")).toHaveCount(0);
  // The turn has ended there: the composer is ready while the call waits.
  await expect(chat.stopButton).toBeHidden();
  return card;
}

async function seriousViolations(page: Page) {
  const { violations } = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"])
    .analyze();
  return violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map(
      (violation) => `${violation.id} (${violation.impact}): ${violation.nodes.map((node) => node.target).join(", ")}`,
    );
}

test.describe("tools", () => {
  test.beforeEach(() => needsOfflineModel("relies on the offline model calling the tools when asked"));

  test("a tool call shows its input, its output and its state, and the answer uses it", async ({ page }) => {
    const chat = new ChatPage(page);
    await chat.open();
    await chat.ask("What time is it in Tokyo?");

    const card = toolCall(chat, "currentTime");
    await expect(card).toHaveAttribute("data-state", "output-available");
    await expect(page.getByRole("region", { name: "Tool call: Current time" })).toBeVisible();
    await expect(card.getByTestId("tool-state")).toHaveText("Done");
    await expect(card.getByTestId("tool-input")).toHaveText("Asia/Tokyo");
    await expect(card.getByTestId("tool-output")).toContainText("(GMT+9)");
    await expect(card.getByRole("button", { name: "Approve" })).toHaveCount(0);
    await expect(chat.answer()).toContainText("In Asia/Tokyo it is");

    // The same after a reload: the call is part of the saved answer.
    await page.reload();
    await expect(toolCall(chat, "currentTime").getByTestId("tool-output")).toContainText("(GMT+9)");
  });

  test("a tool's error is shown on the call, and the answer says it failed", async ({ page }) => {
    const chat = new ChatPage(page);
    await chat.open();
    await chat.ask("What time is it in Atlantis?");

    const card = toolCall(chat, "currentTime");
    await expect(card).toHaveAttribute("data-state", "output-error");
    await expect(card.getByTestId("tool-state")).toHaveText("Failed");
    await expect(card.getByTestId("tool-error")).toContainText('"Atlantis" is not a time zone');
    await expect(chat.answer()).toContainText("The currentTime tool failed");
  });

  test("Approve runs the calculation and the turn finishes with its result", async ({ page }) => {
    const chat = new ChatPage(page);
    await chat.open();
    await chat.send("calculate 12 * (3 + 4)");
    const card = await awaitApproval(chat);

    await card.getByRole("button", { name: "Approve" }).click();

    await expect(card).toHaveAttribute("data-state", "output-available", { timeout: ANSWER_TIMEOUT_MS });
    await expect(card.getByTestId("tool-output")).toHaveText("84");
    await expect(card.getByRole("button", { name: "Approve" })).toHaveCount(0);
    await chat.messages.waitForAnswer();
    await expect(chat.answer()).toContainText("12 * (3 + 4) = 84");
    await expect(chat.answers).toHaveCount(1);
  });

  test("Deny finishes the turn cleanly, without running the tool, and the chat goes on", async ({ page }) => {
    const chat = new ChatPage(page);
    await chat.open();
    await chat.send("calculate 12 * (3 + 4)");
    const card = await awaitApproval(chat);

    await card.getByRole("button", { name: "Deny" }).click();

    await expect(card).toHaveAttribute("data-state", "output-denied", { timeout: ANSWER_TIMEOUT_MS });
    await expect(card.getByTestId("tool-state")).toHaveText("Denied");
    await expect(card.getByTestId("tool-output")).toHaveCount(0);
    await chat.messages.waitForAnswer();
    await expect(chat.answer()).toContainText("You declined the calculate call, so I did not run it.");
    await expect(chat.errors.alert).toHaveCount(0);

    await chat.ask("Thanks anyway");
    await expect(chat.answer().locator("blockquote")).toHaveText("Thanks anyway");
  });

  test("an approval still pending after a reload can be answered, and the turn finishes", async ({ page }) => {
    const chat = new ChatPage(page);
    await chat.open();
    await chat.send("calculate 12 * (3 + 4)");
    await awaitApproval(chat);

    await page.reload();
    await chat.hydrated();
    const card = await awaitApproval(chat);
    await card.getByRole("button", { name: "Approve" }).click();

    await expect(card.getByTestId("tool-output")).toHaveText("84", { timeout: ANSWER_TIMEOUT_MS });
    await chat.messages.waitForAnswer();
    await expect(chat.answers).toHaveCount(1);

    // And it is saved so: a second reload shows the finished call.
    await page.reload();
    await expect(toolCall(chat, "calculate").getByTestId("tool-output")).toHaveText("84");
    await expect(toolCall(chat, "calculate").getByRole("button", { name: "Approve" })).toHaveCount(0);
  });

  test("a tool call waiting for approval, and opened reasoning, have no serious axe violation", async ({ page }) => {
    const chat = new ChatPage(page);
    await chat.open();
    await chat.ask("Think about tools");
    await chat.answer().getByTestId("reasoning").locator("summary").click();
    await chat.send("calculate 12 * (3 + 4)");
    await awaitApproval(chat);
    expect(await seriousViolations(page)).toEqual([]);
  });
});

test("reasoning is collapsed above the answer, and opens by click or keyboard", async ({ page }) => {
  needsOfflineModel("relies on the offline model reasoning when asked to think");
  const chat = new ChatPage(page);
  await chat.open();
  await chat.ask("Think about durable streams");

  const reasoning = chat.answer().getByTestId("reasoning");
  const text = reasoning.getByTestId("reasoning-text");
  await expect(reasoning.locator("summary")).toHaveText("Reasoning");
  await expect(text).toBeHidden();
  await expect(chat.answer().locator(".markdown")).not.toContainText("The user asks me to think");

  await reasoning.locator("summary").click();
  await expect(text).toBeVisible();
  await expect(text).toContainText("The user asks me to think before answering.");
  await reasoning.locator("summary").press("Enter");
  await expect(text).toBeHidden();

  // It comes back collapsed after a reload, from the saved answer.
  await page.reload();
  await expect(chat.answer().getByTestId("reasoning-text")).toBeHidden();
  await expect(chat.answer().getByTestId("reasoning-text")).toContainText("The user asks me to think");
});

test.describe("model picker", () => {
  test("is labelled, lists the server's models, and refuses a model id sent by hand", async ({ page }) => {
    needsOfflineModel("checks the offline server's list of models");
    const chat = new ChatPage(page);
    await chat.open();
    await chat.hydrated();

    const picker = page.getByRole("combobox", { name: "Model" });
    await expect(picker).toHaveValue("offline:offline-chat");
    await expect(picker.locator("option")).toHaveText(["Offline demo model"]);

    // A choice the server does not offer, as a visitor could send it by editing the page.
    await picker.evaluate((select: HTMLSelectElement) => {
      const option = document.createElement("option");
      option.value = "acme:gpt-9";
      option.textContent = "GPT-9";
      select.append(option);
    });
    await picker.selectOption("acme:gpt-9");
    await chat.send("Hello");

    await expect(chat.errors.alert).toContainText(
      "The model “acme:gpt-9” isn’t available on this server, so nothing was sent to it. Choose one of: Offline demo model (offline:offline-chat).",
      { timeout: ANSWER_TIMEOUT_MS },
    );
    await expect(chat.answers.filter({ hasText: ANSWER_END })).toHaveCount(0);

    // Back on a model the server offers, the chat answers.
    await picker.selectOption("offline:offline-chat");
    await chat.errors.retry();
    await chat.messages.waitForAnswer();
  });

  test.describe("with Gemini configured", () => {
    needsLocalServer("starts a server with a Gemini key, on the Gemini stand-in");
    let standIn: GeminiStandIn;
    let server: AppServer;
    test.beforeAll(async () => {
      standIn = await startGeminiStandIn();
      server = await AppServer.start({
        env: {
          CHAT_MODEL: "",
          GOOGLE_GENERATIVE_AI_API_KEY: "test-key-not-real",
          GOOGLE_GENERATIVE_AI_BASE_URL: standIn.baseURL,
        },
      });
    });
    test.afterAll(async () => {
      await server?.close();
      await standIn?.close();
    });

    test("the choice goes with each message, each answer names its model, and a reload keeps it", async ({ page }) => {
      const chat = new ChatPage(page);
      await chat.open(server.url);
      await chat.hydrated();
      const picker = page.getByRole("combobox", { name: "Model" });
      await expect(picker.locator("option")).toHaveText([
        "Offline demo model",
        "Gemini 2.5 Flash",
        "Gemini 2.5 Flash-Lite",
        "Gemini 2.5 Pro",
      ]);
      await expect(picker).toHaveValue("google:gemini-2.5-flash");

      const thought = "Planning: greet back briefly.";
      standIn.reply(geminiAnswer(defaultGeminiAnswerText("Hello"), { thoughts: [thought] }));
      await chat.send("Hello");
      await expect(chat.answer().getByTestId("answer-model")).toHaveText("Gemini 2.5 Flash", {
        timeout: ANSWER_TIMEOUT_MS,
      });
      await expect(chat.answer().getByTestId("reasoning-text")).toHaveText(thought);
      await expect(chat.answer().getByTestId("reasoning-text")).toBeHidden();
      expect(standIn.requests.at(-1)?.model).toBe("gemini-2.5-flash");

      // By keyboard: focus the picker and choose another model.
      await picker.focus();
      await picker.selectOption("google:gemini-2.5-pro");
      await chat.send("Hello again");
      await expect(chat.answers).toHaveCount(2);
      await expect(chat.answer().getByTestId("answer-model")).toHaveText("Gemini 2.5 Pro", {
        timeout: ANSWER_TIMEOUT_MS,
      });
      expect(standIn.requests.at(-1)?.model).toBe("gemini-2.5-pro");
      await expect(chat.answer(0).getByTestId("answer-model")).toHaveText("Gemini 2.5 Flash");

      await picker.selectOption("offline:offline-chat");
      await chat.ask("And offline?");
      await expect(chat.answer().getByTestId("offline-badge")).toHaveText("Offline demo model");
      const geminiRequests = standIn.requests.length;

      // The choice is the session's: a reload picks the model of the last answer.
      await page.reload();
      await expect(page.getByRole("combobox", { name: "Model" })).toHaveValue("offline:offline-chat");
      await expect(chat.answer(1).getByTestId("answer-model")).toHaveText("Gemini 2.5 Pro");
      expect(standIn.requests.length).toBe(geminiRequests);
    });
  });
});

test("a message typed while an answer is written is queued, then answered, and kept after a reload", async ({
  page,
}) => {
  needsOfflineModel("relies on the offline model's pace and its quoting");
  const chat = new ChatPage(page);
  await chat.open();
  await chat.send(LONG_PROMPT);
  await chat.expectGrowing(2);

  await chat.input.fill("And one more thing");
  await chat.input.press("Enter");

  await expect(chat.input).toHaveValue("");
  await expect(chat.composer.hint).toHaveCount(0);
  const queued = page.getByTestId("queued-message");
  await expect(queued).toContainText("And one more thing");
  await expect(queued).toContainText("Queued");
  // The answer being written goes on and finishes first.
  await expect(chat.answer(0)).toContainText(ANSWER_END, { timeout: ANSWER_TIMEOUT_MS });

  await expect(chat.answers).toHaveCount(2, { timeout: ANSWER_TIMEOUT_MS });
  await chat.messages.waitForAnswer();
  await expect(chat.answer().locator("blockquote")).toHaveText("And one more thing");
  await expect(queued).toHaveCount(0);
  await expect(chat.userMessages).toHaveText([LONG_PROMPT, "And one more thing"]);

  await page.reload();
  await expect(chat.userMessages).toHaveText([LONG_PROMPT, "And one more thing"]);
  await expect(chat.answers).toHaveCount(2);
  await expect(chat.answer().locator("blockquote")).toHaveText("And one more thing");
});
