"""Pure mathematics of MathLens: numpy, scipy, sympy, torch. No web code may be imported here."""
