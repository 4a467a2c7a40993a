import type { ChatSummary } from "./chats";

export type ChatGroup = { id: "today" | "yesterday" | "week" | "older"; label: string; chats: ChatSummary[] };

const LABELS: Record<ChatGroup["id"], string> = {
  today: "Today",
  yesterday: "Yesterday",
  week: "Previous 7 days",
  older: "Older",
};

/** The start of the local day `days` before the one `now` falls in (calendar days, so DST changes nothing). */
function dayStart(now: Date, days: number): number {
  return new Date(now.getFullYear(), now.getMonth(), now.getDate() - days).getTime();
}

/**
 * The chats under the headings the sidebar shows, by the day each started in
 * the viewer's time zone: today, yesterday, the seven days before, and older.
 * The order within each group is the list's own (newest first); empty groups
 * are left out. A date after `now` (a clock ahead of this one) counts as today.
 */
export function groupChats(chats: ChatSummary[], now: Date): ChatGroup[] {
  const today = dayStart(now, 0);
  const yesterday = dayStart(now, 1);
  const weekAgo = dayStart(now, 8);
  const groups = new Map<ChatGroup["id"], ChatSummary[]>();
  for (const chat of chats) {
    const at = Date.parse(chat.createdAt);
    const id = at >= today ? "today" : at >= yesterday ? "yesterday" : at >= weekAgo ? "week" : "older";
    groups.set(id, [...(groups.get(id) ?? []), chat]);
  }
  return (Object.keys(LABELS) as ChatGroup["id"][]).flatMap((id) => {
    const members = groups.get(id);
    return members ? [{ id, label: LABELS[id], chats: members }] : [];
  });
}
