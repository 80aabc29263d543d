/* Include first in a kernel source (before any other header) to let GCC vectorize its loops.
   Contract: changes code generation only; results change at most by FMA contraction.
   GCC 12+ at -O2 uses the "very-cheap" vectorizer cost model, which refuses most loops with a
   run-time trip count (the elementwise loops here), so at -O2 the fast exp, maxpool and
   broadcast loops stayed scalar; this raises the model to "dynamic" (the -O3 default) for the
   functions of the including file, and lets it contract a * b + c into FMA as clang does (GCC
   in ISO C mode, -std=c99, otherwise never fuses; the polynomials lose nothing by it).
   Clang and -Os builds are left alone. */
#ifndef GRAFT_GK_VECTORIZE_H
#define GRAFT_GK_VECTORIZE_H
#if defined(__GNUC__) && !defined(__clang__) && defined(__OPTIMIZE__) && !defined(__OPTIMIZE_SIZE__)
#pragma GCC optimize("tree-vectorize", "vect-cost-model=dynamic", "fp-contract=fast")
#endif
#endif
