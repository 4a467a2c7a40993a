// ESLint for app/, trigger/, tests/ and the config files. `npm run lint` fails on any warning.
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import jsxA11y from "eslint-plugin-jsx-a11y";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "node_modules/",
      "build/",
      "public/",
      ".react-router/",
      ".data/",
      ".trigger/",
      "reports/",
      "test-results/",
      "playwright-report/",
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    // Only the React app. The engine (app/local-trigger/), the agent and the tests run no React, and there a
    // `use...` name is not a hook: Playwright fixtures call `use`, the engine harness has `useEngine`.
    files: ["app/**/*.{ts,tsx}"],
    ignores: ["app/local-trigger/**"],
    ...reactHooks.configs.flat.recommended,
  },
  {
    files: ["**/*.tsx"],
    ...jsxA11y.flatConfigs.recommended,
  },
  {
    rules: {
      // tsc's noUnusedParameters convention: a leading underscore marks a parameter kept for its position or type.
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      // A variable that a closure reads before its one assignment cannot be const (the closure would hit the TDZ).
      "prefer-const": ["error", { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // The agent's modules hold its task and its tools; the app only shares their types. What both run (the
    // model library) lives in app/lib/ai/, which the agent imports.
    files: ["app/**/*.{ts,tsx}"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/trigger/*"],
              allowTypeImports: true,
              message: "Import only types from trigger/ into app/; shared runtime code belongs in app/lib/ai/.",
            },
          ],
        },
      ],
    },
  },
  {
    // Playwright reads fixture names from the first parameter's pattern, so a hook that needs none writes `{}`.
    files: ["tests/e2e/**"],
    rules: { "no-empty-pattern": ["error", { allowObjectPatternsAsParameters: true }] },
  },
  {
    // Plain JavaScript here is Node scripts and this config; TypeScript files get their globals from tsc.
    files: ["**/*.{js,mjs}"],
    languageOptions: { globals: globals.node },
  },
  // Last, so formatting is Prettier's alone.
  prettier,
);
