import type { Page } from "@playwright/test";

/**
 * Types into the composer until Send takes it, then presses Enter: text typed
 * before the page has hydrated is not the composer's yet.
 */
export async function send(page: Page, text: string) {
  const input = page.getByRole("textbox", { name: "Message" });
  for (;;) {
    await input.fill(text);
    if (await page.getByTestId("send-button").isEnabled()) break;
    await page.waitForTimeout(20);
  }
  await input.press("Enter");
}
