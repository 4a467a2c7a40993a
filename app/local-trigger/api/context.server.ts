import type { LiveSse } from "../http/sse.server";
import type { InputQuotas } from "../limits.server";
import { forbidden, HttpError } from "../http/errors.server";
import type { RunManager } from "../runs/run-manager.server";
import type { S2Emulation } from "../s2/s2.server";
import type { WorkerPool } from "../runs/worker-pool.server";
import type { SessionRuns } from "../sessions/session-runs.server";
import type { TaskRuns } from "../runs/task-runs.server";
import type { Waitpoints } from "../runs/waitpoints.server";
import type { Session, SessionStore } from "../sessions/session-store.server";
import type { DataFolder } from "../storage/data-folder.server";
import { authenticate, type Caller, canOnSession, isAuthFailure, type SessionOperation } from "./auth.server";

export const ENVIRONMENT_ID = "env_local";
/** What `POST /api/v1/auth/jwt/claims` answers for the secret key; the same for every token it signs. */
export const SECRET_KEY_CLAIMS = { sub: ENVIRONMENT_ID, pub: true } as const;

/** What the route handlers work with. */
export type EngineContext = {
  store: SessionStore;
  data: DataFolder;
  runs: RunManager;
  sessionRuns: SessionRuns;
  /** Runs triggered through the API, and waitpoint tokens. */
  taskRuns: TaskRuns;
  waitpoints: Waitpoints;
  pool: WorkerPool;
  auth: RequestAuth;
  /** Credentials and appends for writers of `.out` outside the engine's workers. */
  s2: S2Emulation;
  secretKey: string;
  /** Open SSE responses, so a test can cut them as a network drop would. */
  liveStreams: Set<LiveSse>;
  settings: {
    /** Lifetime of the token `POST /api/v1/sessions` returns. */
    sessionTokenTTL: string;
    /** Idle SSE ping interval. */
    pingIntervalMs: number;
    /** How long a message waits for a run slot when every slot is mid-turn. */
    queueWaitMs: number;
    inputQuotas: InputQuotas;
  };
};

/** Who may do what, the way Trigger.dev decides it: the secret key, or a public token's scopes. */
export class RequestAuth {
  constructor(
    private readonly secretKey: string,
    private readonly store: SessionStore,
  ) {}

  async caller(request: Request): Promise<Caller> {
    const caller = await authenticate(request.headers.get("authorization"), this.secretKey, ENVIRONMENT_ID);
    if (isAuthFailure(caller)) throw new HttpError(caller.status, { error: caller.message });
    return caller;
  }

  async requireSecretKey(request: Request) {
    const caller = await this.caller(request);
    if (caller.kind !== "secret-key") throw forbidden();
  }

  /**
   * The session behind a URL key, if the caller may act on it; 403 before
   * 404, so ids leak nothing. A deleted session is not found here, by tokens
   * minted before the delete too, except by the secret key where
   * `secretKeySeesDeleted` (it reads as closed).
   */
  async session(
    request: Request,
    key: string,
    operation: SessionOperation,
    options: { secretKeySeesDeleted?: boolean } = {},
  ): Promise<{ caller: Caller; session: Session }> {
    const caller = await this.caller(request);
    const session = this.store.resolve(key);
    if (!canOnSession(caller, operation, sessionKeys(key, session))) throw forbidden();
    const visible =
      !!session && (!session.purgedAt || (!!options.secretKeySeesDeleted && caller.kind === "secret-key"));
    if (!visible) throw new HttpError(404, { error: `Session "${key}" not found` });
    return { caller, session };
  }

  /**
   * As `session`, for the read routes upstream serves before a session
   * exists: a chat id with no session yet gives no session rather than 404,
   * if the caller may read that id. A `session_*` id must name a real
   * session, and a deleted one stays not found.
   */
  async sessionOrChatId(
    request: Request,
    key: string,
    operation: SessionOperation,
  ): Promise<{ caller: Caller; session: Session | undefined }> {
    const caller = await this.caller(request);
    const session = this.store.resolve(key);
    if (!canOnSession(caller, operation, sessionKeys(key, session))) throw forbidden();
    if (session?.purgedAt || (!session && key.startsWith(FRIENDLY_ID_PREFIX))) {
      throw new HttpError(404, { error: `Session "${key}" not found` });
    }
    return { caller, session };
  }
}

const FRIENDLY_ID_PREFIX = "session_";

/** The ids a scope may name a session by: the key in the URL, its friendly id and its external id. */
export const sessionKeys = (urlKey: string, session?: Session): string[] => [
  ...new Set([urlKey, session?.friendlyId, session?.externalId].filter((id): id is string => !!id)),
];
