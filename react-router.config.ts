import type { Config } from "@react-router/dev/config";

export default {
  ssr: true,
  // Declaring every v8 flag keeps v7 behaviour and silences the future-flag warnings.
  future: {
    v8_middleware: false,
    v8_splitRouteModules: false,
    v8_viteEnvironmentApi: false,
    v8_passThroughRequests: false,
    v8_trailingSlashAwareDataRequests: false,
  },
} satisfies Config;
