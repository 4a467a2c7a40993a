import { type RouteConfig, index, layout, prefix, route } from "@react-router/dev/routes";

export default [
  index("routes/home.tsx"),
  layout("routes/chat-layout.tsx", [route("chat/:chatId", "routes/chat.tsx")]),
  ...prefix("api/chats", [
    index("routes/api/chats.ts"),
    route("search", "routes/api/chat-search.ts"),
    route(":chatId/session", "routes/api/chat-session.ts"),
    route(":chatId/head-start", "routes/api/chat-head-start.ts"),
    route(":chatId/token", "routes/api/chat-token.ts"),
    route(":chatId/transcript", "routes/api/chat-transcript.ts"),
    route(":chatId/delete", "routes/api/chat-delete.ts"),
    route(":chatId/rename", "routes/api/chat-rename.ts"),
  ]),
  route("local-trigger/*", "routes/local-trigger.ts"),
  route("healthz", "routes/healthz.ts"),
  route("readyz", "routes/readyz.ts"),
] satisfies RouteConfig;
