// The programs' form schemas in a strict validator, as the console uses them:
// Ajv 2020-12 in strict mode with ajv-formats and Shenbao's vocabulary
// (`x-public`, `x-project-key`). Every schema must compile, and every example
// case must be valid here exactly when the kernel found no schema finding.
//
// Usage: node tests/schemas.mjs CASES.json — written by `tests/examples.rs`
// (`[{program, form, schema, cases: [{name, data, kernel_valid}]}]`).
import { readFileSync } from "node:fs";
import { newValidator } from "../src/schema.js";

const input = JSON.parse(readFileSync(process.argv[2], "utf8"));
const problems = [];
let compiled = 0;
let checked = 0;
for (const f of input) {
  let validate;
  try {
    validate = newValidator().compile(JSON.parse(f.schema));
    compiled += 1;
  } catch (e) {
    problems.push(`${f.program}/${f.form}: does not compile in strict Ajv: ${e.message}`);
    continue;
  }
  for (const c of f.cases) {
    const valid = validate(c.data);
    checked += 1;
    if (valid !== c.kernel_valid) {
      const why = valid ? "" : JSON.stringify(validate.errors.slice(0, 3));
      problems.push(`${f.program}/${f.form} ${c.name}: Ajv says ${valid ? "valid" : "invalid"}, the kernel ${c.kernel_valid ? "valid" : "invalid"} ${why}`);
    }
  }
}
if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log(`ok: ${compiled} schemas compile strictly; ${checked} cases agree with the kernel`);
