// Kept for pages that still import it: everything now lives in lab-common.js (calculus shows
// tiny numbers as they are: errors of 1e-17 are the point there).
export * from "./lab-common.js";
export { numExact as num } from "./lab-common.js";
