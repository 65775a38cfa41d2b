// TypeBox (@sinclair/typebox, pinned in plugins/toolchains/package.json): JSON Schema from
// types, for forms (`forms.js`). componentize-js resolves relative paths only, so this
// module names the file npm installed. Inside this repository that is the toolchain
// folder `cargo xtask` installs; a project from `shenbao plugin new` installs its own
// (`npm install`) and its copy of this file points at `../node_modules`.
export * from "../../target/tools/js/node_modules/@sinclair/typebox/build/esm/index.mjs";
