// Kept for pages that still import it: everything now lives in lab-common.js.
export * from "./lab-common.js";
