import fs from "node:fs";
import path from "node:path";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { parseServerEnv } from "./env.server";
import { createGuestCookie, getGuestCookie, ownerTag, readGuestId, resolveGuest } from "./guest.server";
import { cookieFrom, tempDataDir } from "./test-support.server";
import { StartupError } from "~/local-trigger/storage/secrets.server";

const env = vi.hoisted(() => ({ current: undefined as import("./env.server").ServerEnv | undefined }));
vi.mock("./env.server", async (importOriginal) => ({
  ...(await importOriginal<typeof import("./env.server")>()),
  getServerEnv: () => env.current,
}));

const localTestEnv = () => parseServerEnv({ NODE_ENV: "test", LOCAL_TRIGGER_DATA_DIR: tempDataDir() });
const request = (cookie?: string) => new Request("http://localhost/", { headers: cookie ? { Cookie: cookie } : {} });

describe("guest identity", () => {
  beforeEach(() => {
    env.current ??= localTestEnv();
  });

  it("mints a guest with a long-lived, HttpOnly, SameSite=Lax cookie when the request has none", async () => {
    const guest = await resolveGuest(request());
    expect(guest.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(guest.setCookie).toMatch(/^guest=/);
    expect(guest.setCookie).toContain("HttpOnly");
    expect(guest.setCookie).toContain("SameSite=Lax");
    expect(guest.setCookie).toContain(`Max-Age=${60 * 60 * 24 * 365}`);
    expect(guest.setCookie).not.toContain("Secure");
  });

  it("recognises the guest from its cookie and sets no new cookie", async () => {
    const minted = await resolveGuest(request());
    const cookie = cookieFrom(minted.setCookie!);
    expect(await readGuestId(request(cookie))).toBe(minted.id);
    expect(await resolveGuest(request(cookie))).toEqual({ id: minted.id, setCookie: null });
  });

  it("treats a tampered cookie as no cookie and mints a different guest", async () => {
    const minted = await resolveGuest(request());
    const [name, value] = cookieFrom(minted.setCookie!).split("=") as [string, string];
    const [payload, signature] = decodeURIComponent(value).split(".") as [string, string];
    const forged = btoa(JSON.stringify(crypto.randomUUID()));
    expect(payload).not.toBe(forged);
    const tampered = `${name}=${encodeURIComponent(`${forged}.${signature}`)}`;

    expect(await readGuestId(request(tampered))).toBeNull();
    const fresh = await resolveGuest(request(tampered));
    expect(fresh.id).not.toBe(minted.id);
    expect(fresh.setCookie).not.toBeNull();
  });

  it("ignores cookies that are unsigned or not a guest id", async () => {
    expect(
      await readGuestId(request(`guest=${encodeURIComponent(btoa(JSON.stringify(crypto.randomUUID())))}`)),
    ).toBeNull();
    expect(await readGuestId(request("guest=garbage"))).toBeNull();
    expect(await readGuestId(request("other=1"))).toBeNull();
  });

  it("refuses a request carrying two guest cookies (one planted by another page of this host) rather than guess", async () => {
    const ours = cookieFrom((await resolveGuest(request())).setCookie!);
    const planted = cookieFrom((await resolveGuest(request())).setCookie!);
    const refusal = await readGuestId(request(`${planted}; ${ours}`)).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(Response);
    expect((refusal as Response).status).toBe(400);
    expect(await (refusal as Response).json()).toEqual({
      error: expect.stringMatching(/two different sign-in cookies/),
    });
    await expect(resolveGuest(request(`${planted}; ${ours}`))).rejects.toBeInstanceOf(Response);
    expect(await readGuestId(request(`other=1; ${ours}; guestx=2`))).not.toBeNull();
  });

  it("checks a cookie's signature once, and still refuses a tampered copy of a cookie it has checked", async () => {
    const minted = await resolveGuest(request());
    const cookie = cookieFrom(minted.setCookie!);
    const parse = vi.spyOn(getGuestCookie(), "parse");
    try {
      expect(await readGuestId(request(cookie))).toBe(minted.id);
      expect(await readGuestId(request(`other=1; ${cookie}`))).toBe(minted.id);
      expect(parse).toHaveBeenCalledTimes(1);

      const [name, value] = cookie.split("=") as [string, string];
      const [, signature] = decodeURIComponent(value).split(".") as [string, string];
      const forged = `${name}=${encodeURIComponent(`${btoa(JSON.stringify(crypto.randomUUID()))}.${signature}`)}`;
      expect(await readGuestId(request(forged))).toBeNull();
      expect(await readGuestId(request(`${cookie}x`))).toBeNull();
    } finally {
      parse.mockRestore();
    }
  });

  it("tags chats with the guest id", () => {
    expect(ownerTag("abc")).toBe("guest:abc");
  });
});

describe("createGuestCookie", () => {
  it("generates the local secret once into the data folder, so guests survive a restart", async () => {
    const localEnv = localTestEnv();
    const first = createGuestCookie(localEnv);
    const secretFile = path.join(localEnv.LOCAL_TRIGGER_DATA_DIR, "cookie-secret");
    expect(fs.statSync(secretFile).mode & 0o777).toBe(0o600);

    const signed = cookieFrom(await first.serialize("some-guest"));
    const afterRestart = createGuestCookie(localEnv);
    expect(await afterRestart.parse(signed)).toBe("some-guest");
  });

  it("regenerates an empty cookie secret while no chat depends on it", async () => {
    const localEnv = localTestEnv();
    const secretFile = path.join(localEnv.LOCAL_TRIGGER_DATA_DIR, "cookie-secret");
    fs.writeFileSync(secretFile, "");
    const cookie = createGuestCookie(localEnv);
    expect(fs.readFileSync(secretFile, "utf8").trim()).toMatch(/^\S{32,}$/);
    expect(await cookie.parse(cookieFrom(await cookie.serialize("some-guest")))).toBe("some-guest");
  });

  it("refuses to start on an empty or short cookie secret that guests' chats depend on, naming the file", () => {
    const localEnv = localTestEnv();
    const secretFile = path.join(localEnv.LOCAL_TRIGGER_DATA_DIR, "cookie-secret");
    fs.mkdirSync(path.join(localEnv.LOCAL_TRIGGER_DATA_DIR, "sessions", "session_abc"), { recursive: true });
    for (const damaged of ["", "too-short"]) {
      fs.writeFileSync(secretFile, damaged);
      expect(() => createGuestCookie(localEnv)).toThrow(StartupError);
      expect(() => createGuestCookie(localEnv)).toThrow(
        `The secret file ${secretFile} is ${damaged ? "damaged" : "empty"}, and the guests who own its 1 chat sign in with it.`,
      );
      expect(fs.readFileSync(secretFile, "utf8")).toBe(damaged);
    }
  });

  it("signs with SESSION_SECRET against Trigger.dev, and marks the cookie Secure in production", async () => {
    const remote = (secret: string) =>
      parseServerEnv({ NODE_ENV: "production", TRIGGER_SECRET_KEY: "tr_prod_example", SESSION_SECRET: secret });
    const cookie = createGuestCookie(remote("a".repeat(32)));
    const setCookie = await cookie.serialize("some-guest");
    expect(setCookie).toContain("Secure");
    // A host-only cookie for the whole site, which no sibling subdomain or narrower path can shadow.
    expect(setCookie).toMatch(/^__Host-guest=/);
    expect(setCookie).toContain("Path=/;");
    expect(setCookie).not.toMatch(/Domain=/i);

    expect(await createGuestCookie(remote("a".repeat(32))).parse(cookieFrom(setCookie))).toBe("some-guest");
    expect(await createGuestCookie(remote("b".repeat(32))).parse(cookieFrom(setCookie))).toBeNull();
  });
});
