// The JSON Schema validator the console uses (and `tests/schemas.mjs` checks):
// Ajv for draft 2020-12, strict, with the standard formats and Shenbao's
// vocabulary — the keywords the kernel reads and validators must accept.
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

/** Shenbao's extension keywords: `x-public` (shown in the public notice) and
 * `x-project-key` (names the project for the "not twice" rules). */
export const VOCABULARY = ["x-public", "x-project-key"];

/** The options shared with react-jsonschema-form's validator. */
export const AJV_OPTIONS = { strict: true, allErrors: true };

/** A new strict Ajv 2020 instance that knows Shenbao's vocabulary and formats. */
export function newValidator() {
  const ajv = new Ajv2020(AJV_OPTIONS);
  addFormats(ajv);
  ajv.addVocabulary(VOCABULARY);
  return ajv;
}
