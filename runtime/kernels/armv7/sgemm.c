/* sgemm.c (armv7) — the NEON sgemm of kernels/aarch64/sgemm.c (one source for both ARM
   targets; see its contract). Needs -mfpu=neon-vfpv4 for fused multiply-add. */
#include "../aarch64/sgemm.c"
