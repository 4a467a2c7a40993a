import { createContext, useContext } from "react";

/**
 * The CSP nonce of the page being rendered. The server provides it; in the
 * browser it is "", which is also what the browser shows for a nonce attribute
 * once the page has loaded, so hydration sees no difference.
 */
export const NonceContext = createContext("");

export const useNonce = () => useContext(NonceContext);
