import { createContext } from "react-router";

// On globalThis because the production server (its own bundle) sets these and
// the app's bundle reads them: both must hold the very same context object.
const shared = globalThis as typeof globalThis & { __chatClientAddressContext?: ReturnType<typeof createContext<string | null>> };

/** The client's network address as the Node server saw it (after TRUST_PROXY); null when unknown, as on the dev server. */
export const clientAddressContext = (shared.__chatClientAddressContext ??= createContext<string | null>(null));

/** This response's CSP nonce, for React Router's and React's inline scripts. */
export const nonceContext = createContext<string>("");
