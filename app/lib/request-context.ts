import { createContext, type RouterContext } from "react-router";

// On globalThis because the production server (its own bundle) sets these and
// the app's bundle reads them: both must hold the very same context objects.
const shared = globalThis as typeof globalThis & {
  __chatRequestContexts?: { clientAddress: RouterContext<string | null>; nonce: RouterContext<string> };
};
shared.__chatRequestContexts ??= {
  clientAddress: createContext<string | null>(null),
  nonce: createContext<string>(""),
};

/** The client's network address as the Node server saw it (after TRUST_PROXY); null when unknown, as on the dev server. */
export const clientAddressContext = shared.__chatRequestContexts.clientAddress;

/** This response's CSP nonce, for React Router's and React's inline scripts; "" until one is made. */
export const nonceContext = shared.__chatRequestContexts.nonce;
