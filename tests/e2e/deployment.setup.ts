import { e2eTarget, OFFLINE_MODEL } from "./target";

/**
 * With E2E_BASE_URL set, checks once that an app answers there before any
 * test runs, so a wrong URL or a deployment that is down is one clear error
 * rather than a failure in every test.
 */
export default async function checkDeployment() {
  const url = e2eTarget.deploymentURL!;
  let status: number;
  try {
    status = (await fetch(`${url}/`, { redirect: "manual", signal: AbortSignal.timeout(30_000) })).status;
  } catch (error) {
    const why = (error as Error).cause ?? (error as Error).message;
    throw new Error(`E2E_BASE_URL=${url}: no app answers there (${why})`);
  }
  // "/" redirects to a new chat.
  if (status < 300 || status >= 400) {
    throw new Error(`E2E_BASE_URL=${url}: "/" answered ${status}, where the app redirects to a new chat`);
  }
  const offlineOnly = e2eTarget.model === OFFLINE_MODEL ? "" : ", and those that need the offline model";
  console.log(
    `Testing the app at ${url}, answered by ${e2eTarget.model}. Skipped: the tests that need a server of their ` +
      `own${offlineOnly}. The JSON and HTML reports give each one's reason.`,
  );
}
