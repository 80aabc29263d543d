/* cpu.h — one-time CPU feature probe used to pick kernel variants at run time.
   Internal header; not part of the public API.

   Contract
   - graft_cpu_level() returns the widest instruction set level that both the CPU and the OS
     (saved register state) support, capped by the GRAFT_CPU environment variable:
     "generic" forces the portable C paths, "avx2" caps at AVX2+FMA, anything else (or unset)
     means no cap.
   - The probe runs once; later calls return a cached value. The cache is a single int that is
     written with the same value by every thread that races on the first call (benign).
   - Never allocates, never does stdio. On Arm builds with NEON (__ARM_NEON: every aarch64
     build, armv7 built with -mfpu=neon*) it returns GRAFT_CPU_NEON unless GRAFT_CPU=generic;
     NEON is a compile-time property there (no run-time probe). Other targets: GENERIC.
   - Levels are ordered only within one architecture: x86 code compares against AVX2/AVX512,
     Arm code tests == GRAFT_CPU_NEON. */
#ifndef GRAFT_CPU_H
#define GRAFT_CPU_H

typedef enum graft_cpu_level {
  GRAFT_CPU_GENERIC = 0, /* portable C, auto-vectorized by the compiler for the base ISA */
  GRAFT_CPU_AVX2 = 1,    /* x86-64 AVX2 + FMA */
  GRAFT_CPU_AVX512 = 2,  /* x86-64 AVX-512 F/VL/DQ/BW + FMA, zmm state enabled by the OS */
  GRAFT_CPU_NEON = 3     /* Arm Advanced SIMD (aarch64, or armv7 NEON/VFPv4) */
} graft_cpu_level;

graft_cpu_level graft_cpu_level_get(void);

#endif
