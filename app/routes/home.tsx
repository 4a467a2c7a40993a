import { href, redirect } from "react-router";

/** Every visit to / starts a fresh chat; it only becomes a session once its first message is sent. */
export function loader() {
  return redirect(href("/chat/:chatId", { chatId: crypto.randomUUID() }));
}
