import { reactRouter } from "@react-router/dev/vite";
import tailwindcss from "@tailwindcss/vite";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [tailwindcss(), reactRouter()],
  resolve: { tsconfigPaths: true },
  // Pre-bundled up front so the first visit to a chat does not trigger a dev reload.
  optimizeDeps: { include: ["@ai-sdk/react", "@trigger.dev/sdk/chat/react", "react-markdown", "remark-gfm", "rehype-highlight"] },
  // The engine bundles agent workers with esbuild at runtime; keep it out of the SSR bundle.
  ssr: { external: ["esbuild"] },
});
