import { forwardToEngine } from "~/lib/local-engine-mount.server";
import { clientAddressContext } from "~/lib/request-context";
import type { Route } from "./+types/local-trigger";

export const loader = ({ request, context }: Route.LoaderArgs) =>
  forwardToEngine(request, context.get(clientAddressContext));
export const action = ({ request, context }: Route.ActionArgs) =>
  forwardToEngine(request, context.get(clientAddressContext));
