import path from "node:path";
import { ChatPage, test } from "./fixtures";

test("chat page after one exchange", async ({ page }) => {
  await page.emulateMedia({ colorScheme: "light" });
  const chat = new ChatPage(page);
  await chat.open();
  await chat.send("How do I keep a chat answer streaming when the user reloads the page?");
  await chat.expectComplete();
  await page.mouse.move(0, 0);
  await page.screenshot({ path: path.join(test.info().config.rootDir, "../../public/screenshot.png") });
});
