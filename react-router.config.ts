import type { Config } from "@react-router/dev/config";

export default {
  ssr: true,
  // Declaring every v8 flag silences the future-flag warnings. Middleware is on: the security checks and headers run there.
  future: {
    v8_middleware: true,
    v8_splitRouteModules: false,
    v8_viteEnvironmentApi: false,
    v8_passThroughRequests: false,
    v8_trailingSlashAwareDataRequests: false,
  },
} satisfies Config;
