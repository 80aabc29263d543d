/* One-time CPU feature probe (see cpu.h for the contract). */
#include "cpu.h"
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#define GRAFT_CPU_X86 1
#endif

#ifdef GRAFT_CPU_X86
static unsigned long long read_xcr0(void) {
  unsigned int lo, hi;
  __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0)); /* xgetbv */
  return ((unsigned long long)hi << 32) | lo;
}

static graft_cpu_level probe_hardware(void) {
  unsigned int a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return GRAFT_CPU_GENERIC;
  const int has_fma = (c >> 12) & 1, has_osxsave = (c >> 27) & 1, has_avx = (c >> 28) & 1;
  if (!has_fma || !has_osxsave || !has_avx) return GRAFT_CPU_GENERIC;
  const unsigned long long xcr0 = read_xcr0();
  if ((xcr0 & 0x6) != 0x6) return GRAFT_CPU_GENERIC; /* xmm + ymm state */
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return GRAFT_CPU_GENERIC;
  const int has_avx2 = (b >> 5) & 1;
  if (!has_avx2) return GRAFT_CPU_GENERIC;
  const int has_f = (b >> 16) & 1, has_dq = (b >> 17) & 1, has_bw = (b >> 30) & 1,
            has_vl = (b >> 31) & 1;
  const int zmm_state = (xcr0 & 0xe6) == 0xe6; /* opmask + zmm_hi256 + hi16_zmm */
  if (has_f && has_dq && has_bw && has_vl && zmm_state) return GRAFT_CPU_AVX512;
  return GRAFT_CPU_AVX2;
}
#elif defined(__ARM_NEON) || defined(__ARM_NEON__)
static graft_cpu_level probe_hardware(void) { return GRAFT_CPU_NEON; }
#else
static graft_cpu_level probe_hardware(void) { return GRAFT_CPU_GENERIC; }
#endif

static graft_cpu_level probe(void) {
  graft_cpu_level level = probe_hardware();
  const char *cap = getenv("GRAFT_CPU");
  if (cap) {
    if (strcmp(cap, "generic") == 0) level = GRAFT_CPU_GENERIC;
    else if (strcmp(cap, "avx2") == 0 && level == GRAFT_CPU_AVX512) level = GRAFT_CPU_AVX2;
  }
  return level;
}

graft_cpu_level graft_cpu_level_get(void) {
  static int cached = -1; /* benign race: every writer stores the same value */
  int v = cached;
  if (v < 0) {
    v = (int)probe();
    cached = v;
  }
  return (graft_cpu_level)v;
}
