import { defineConfig } from "vite";

// Plain Vite: Preact's JSX through the compiler's automatic runtime, no plugin needed.
export default defineConfig({
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  // The Cognito library reads Node's `global`; in the browser that is `globalThis`.
  define: { global: "globalThis" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    // Budgets are checked by the tests (tests/console); Vite's own warning would only repeat it.
    chunkSizeWarningLimit: 400,
  },
  base: "/",
});
