// The console's build: `cargo xtask console` (and `cargo xtask test`/`demo`) runs
// `npm install` from package-lock.json and then this, writing the assets the
// `console` feature of the kernel embeds. Nothing is fetched at run time.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";

const outDir = process.env.SHENBAO_CONSOLE_OUT ?? fileURLToPath(new URL("../target/console/dist", import.meta.url));

export default defineConfig({
  plugins: [react()],
  base: "/",
  build: { outDir, emptyOutDir: true, assetsInlineLimit: 0, sourcemap: false, chunkSizeWarningLimit: 2000 },
});
