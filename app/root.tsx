import { isRouteErrorResponse, Links, Meta, Outlet, Scripts, ScrollRestoration } from "react-router";
import type { Route } from "./+types/root";
import { requestIdMiddleware } from "./lib/request-id.server";
import { securityMiddleware } from "./lib/security.server";
import { useNonce } from "./lib/nonce";
import "./app.css";

export const middleware: Route.MiddlewareFunction[] = [requestIdMiddleware, securityMiddleware];

export const meta: Route.MetaFunction = () => [
  { title: "Chat" },
  { name: "description", content: "A chat app built on React Router and Trigger.dev chat agents." },
];

export function Layout({ children }: { children: React.ReactNode }) {
  const nonce = useNonce();
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover" />
        <meta name="color-scheme" content="light dark" />
        <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
        {/* Zod probes for eval to speed up parsing, which the CSP forbids and reports; this turns the probe
            off before any module loads (zod reads this shared config). Interpreted parsing is plenty here. */}
        <script nonce={nonce} dangerouslySetInnerHTML={{ __html: "globalThis.__zod_globalConfig={jitless:true};" }} />
        <Meta />
        <Links />
      </head>
      <body className="h-dvh overflow-hidden bg-white text-zinc-900 antialiased dark:bg-zinc-950 dark:text-zinc-100">
        {children}
        <ScrollRestoration nonce={nonce} />
        <Scripts nonce={nonce} />
      </body>
    </html>
  );
}

export default function App() {
  return <Outlet />;
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  let title = "Something went wrong";
  let details = "An unexpected error occurred. Please try again.";
  let stack: string | undefined;

  if (isRouteErrorResponse(error)) {
    title = error.status === 404 ? "Page not found" : `Error ${error.status}`;
    const busy = (error.status === 429 || error.status === 503) && typeof error.data?.error === "string";
    details =
      error.status === 404
        ? "There is nothing at this address."
        : busy
          ? String(error.data.error)
          : error.statusText || details;
  } else if (import.meta.env.DEV && error instanceof Error) {
    details = error.message;
    stack = error.stack;
  }

  return (
    <main className="mx-auto flex h-full max-w-xl flex-col items-start justify-center gap-4 p-6">
      <h1 className="text-2xl font-semibold">{title}</h1>
      <p className="text-zinc-600 dark:text-zinc-400">{details}</p>
      <a
        href="/"
        className="rounded-lg bg-zinc-900 px-4 py-2 text-sm font-medium text-white hover:bg-zinc-700 dark:bg-white dark:text-zinc-900 dark:hover:bg-zinc-200"
      >
        Start a new chat
      </a>
      {stack && (
        <pre className="w-full overflow-x-auto rounded-lg bg-zinc-100 p-4 text-xs dark:bg-zinc-900">
          <code>{stack}</code>
        </pre>
      )}
    </main>
  );
}
