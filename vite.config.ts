import { reactRouter } from "@react-router/dev/vite";
import tailwindcss from "@tailwindcss/vite";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [tailwindcss(), reactRouter()],
  resolve: { tsconfigPaths: true },
  // Pre-bundled up front so the first visit to a chat does not trigger a dev reload. The dependency
  // scan also reaches server-only packages through route modules' loaders, so they are listed too.
  optimizeDeps: {
    include: [
      "@ai-sdk/react",
      "@trigger.dev/sdk/chat/react",
      "@trigger.dev/sdk",
      "@trigger.dev/sdk/ai",
      "@trigger.dev/core/v3",
      "@trigger.dev/core/v3/jwt",
      "marked",
      "remark-gfm",
      "remark-parse",
      "unified",
      "lowlight",
      "zod",
    ],
  },
  // The engine bundles agent workers with esbuild at runtime; keep it out of the SSR bundle.
  ssr: { external: ["esbuild"] },
});
