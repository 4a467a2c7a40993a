import { startTransition, StrictMode } from "react";
import { hydrateRoot } from "react-dom/client";
import { HydratedRouter } from "react-router/dom";
import { loadMarkdown } from "./components/chat/message-list";

// A page the server rendered with answers hydrates with the markdown renderer already here, so the
// answers stay as the server drew them instead of flashing as plain text while it loads.
if (document.querySelector('[data-testid="message-assistant"]')) await loadMarkdown().catch(() => {});

startTransition(() => {
  hydrateRoot(
    document,
    <StrictMode>
      <HydratedRouter />
    </StrictMode>,
  );
});
