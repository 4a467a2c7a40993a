import { useEffect, useState } from "react";
import { href } from "react-router";
import { postJson } from "~/lib/api-client";
import type { ChatSummary } from "~/lib/chats";

/** How long typing pauses before the search is sent. */
const SEARCH_DELAY_MS = 250;

export type ChatSearch =
  | { state: "idle" }
  | { state: "searching"; query: string }
  | { state: "done"; query: string; chats: ChatSummary[]; truncated: boolean }
  | { state: "failed"; query: string; error: string };

/**
 * Searches all of the guest's chats by title on the server (the sidebar holds
 * only the pages it loaded), a moment after typing stops. Only the latest
 * query's answer is shown. `refreshKey` searches again, after a rename or delete.
 */
export function useChatSearch(query: string, refreshKey: unknown): ChatSearch {
  const trimmed = query.trim();
  const [result, setResult] = useState<ChatSearch>({ state: "idle" });
  useEffect(() => {
    if (!trimmed) return;
    let current = true;
    const timer = setTimeout(async () => {
      try {
        const found = await postJson<{ chats: ChatSummary[]; truncated: boolean }>(href("/api/chats/search"), {
          query: trimmed,
        });
        if (current) setResult({ state: "done", query: trimmed, ...found });
      } catch (error) {
        const message = error instanceof Error ? error.message : "The search failed. Please try again.";
        if (current) setResult({ state: "failed", query: trimmed, error: message });
      }
    }, SEARCH_DELAY_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [trimmed, refreshKey]);
  if (!trimmed) return { state: "idle" };
  // An answer to an earlier query is not this query's.
  if (result.state === "idle" || result.query !== trimmed) return { state: "searching", query: trimmed };
  return result;
}
