import { randomBytes, randomUUID } from "node:crypto";
import { createCookie, type Cookie } from "react-router";
import { z } from "zod";
import { countSessions } from "~/local-trigger/storage/data-folder.server";
import { isStrongSecret, loadOrCreateSecret } from "~/local-trigger/storage/secrets.server";
import { getServerEnv, type ServerEnv } from "./env.server";
import { logger } from "./logger.server";

const GuestIdSchema = z.uuid();
const ONE_YEAR_IN_SECONDS = 60 * 60 * 24 * 365;

export type Guest = {
  id: string;
  /** The Set-Cookie header to send when this guest was just minted; null when the cookie already carried it. */
  setCookie: string | null;
};

/** The tag that marks a chat session as this guest's; ownership is checked against it. */
export const ownerTag = (guestId: string) => `guest:${guestId}`;

export function createGuestCookie(env: ServerEnv): Cookie {
  // Locally the secret is generated once into the data folder, so a restart keeps guests signed in.
  const secret =
    env.SESSION_SECRET ??
    loadOrCreateSecret(env.LOCAL_TRIGGER_DATA_DIR, "cookie-secret", {
      generate: () => randomBytes(32).toString("base64url"),
      isValid: isStrongSecret(32),
      dependents: () => {
        const chats = countSessions(env.LOCAL_TRIGGER_DATA_DIR);
        return chats === 0
          ? undefined
          : `the guests who own its ${chats} ${chats === 1 ? "chat sign" : "chats sign"} in with it`;
      },
      consequenceOfDeleting: "every guest then starts over without their chats",
      log: (message) => logger("guest").warn(message),
    });
  const secure = env.NODE_ENV === "production";
  // "__Host-" makes browsers refuse the cookie unless it is Secure, host-only and for Path=/, so a
  // sibling subdomain or a page planting a narrower-path copy cannot shadow it (cookie tossing).
  return createCookie(secure ? "__Host-guest" : "guest", {
    secrets: [secret],
    httpOnly: true,
    sameSite: "lax",
    secure,
    path: "/",
    maxAge: ONE_YEAR_IN_SECONDS,
  });
}

let guestCookie: Cookie | undefined;

/** The signed guest cookie; created at boot so a bad cookie secret stops the server rather than every request. */
export function getGuestCookie(): Cookie {
  guestCookie ??= createGuestCookie(getServerEnv());
  return guestCookie;
}

/**
 * The guest id from a validly signed cookie, or null when there is none or it
 * was tampered with. Two cookies of that name mean another page of this host
 * planted one beside ours, and which one is genuine cannot be told: that is a
 * 400, never a guess that could hand the visitor's chats to someone else.
 */
export async function readGuestId(request: Request): Promise<string | null> {
  const header = request.headers.get("Cookie");
  const cookie = getGuestCookie();
  const prefix = `${cookie.name}=`;
  const copies = (header?.split(";") ?? []).map((pair) => pair.trim()).filter((pair) => pair.startsWith(prefix));
  if (copies.length > 1) {
    throw Response.json(
      { error: "Your browser sent two different sign-in cookies for this site. Clear this site's cookies and reload." },
      { status: 400 },
    );
  }
  const signed = copies[0]?.slice(prefix.length);
  if (!signed) return null;
  const verified = verifiedGuests(cookie);
  const known = verified.get(signed);
  if (known) return known;
  const result = GuestIdSchema.safeParse(await cookie.parse(header));
  if (!result.success) return null;
  if (verified.size >= MAX_VERIFIED_GUESTS) verified.delete(verified.keys().next().value!);
  verified.set(signed, result.data);
  return result.data;
}

/**
 * Signed cookie values already checked, and the guest each carries. Checking a
 * signature is asynchronous crypto that waits its turn behind whatever else the
 * server is doing, and every message and stream request of a chat reads the
 * cookie first. Only a value that verified is kept, per cookie (so per secret),
 * the oldest dropped first.
 */
const verifiedGuestsByCookie = new WeakMap<Cookie, Map<string, string>>();
const MAX_VERIFIED_GUESTS = 10_000;

function verifiedGuests(cookie: Cookie): Map<string, string> {
  let verified = verifiedGuestsByCookie.get(cookie);
  if (!verified) verifiedGuestsByCookie.set(cookie, (verified = new Map()));
  return verified;
}

/** The caller's guest identity, minting a new one (and its cookie) when the request carries none. */
export async function resolveGuest(request: Request): Promise<Guest> {
  const id = await readGuestId(request);
  if (id) return { id, setCookie: null };
  const newId = randomUUID();
  return { id: newId, setCookie: await getGuestCookie().serialize(newId) };
}

/** Response headers that persist a newly minted guest; empty when nothing changed. */
export function guestHeaders(guest: Guest): HeadersInit {
  return guest.setCookie ? { "Set-Cookie": guest.setCookie } : {};
}
