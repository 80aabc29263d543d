/// The board targets `graft build --target` knows, in one table.
///
/// Contract
/// - `DeployTarget.all` is the only place a target is described: its compiler (a GNU triple
///   prefix, `""` for the host compiler), C flags, the `runtime/kernels/<dir>` folder whose
///   same-basename files replace the reference kernels (nil: reference kernels only), its
///   vector width and the cache sizes the tiling figures assume.
/// - The flags are for GCC/Clang; `-static` linking is what the sample Makefile uses so that
///   user-mode QEMU runs the program without a sysroot.
public struct DeployTarget: Sendable, Equatable {
  public var name: String
  /// One line for `graft targets`.
  public var summary: String
  /// GNU triple of the cross compiler (`aarch64-linux-gnu`), or "" for the host `cc`.
  public var triple: String
  /// Architecture flags added to `-O2`.
  public var cflags: [String]
  /// `runtime/kernels/<dir>` with target kernels, or nil.
  public var kernelDir: String?
  /// SIMD register width in bits the kernels can use (0: scalar / auto-vectorized only).
  public var vectorBits: Int
  public var l1DataBytes: Int
  public var l2Bytes: Int
  /// Command that runs a target binary on an x86-64 host (user-mode QEMU), or "" when native.
  public var emulator: String

  /// sgemm blocking for this target's caches (runtime/kernels/reference/sgemm.c reads
  /// GRAFT_SGEMM_MC/KC/NC): a KC-deep packed A block of MC rows fills at most half of L2
  /// (MC a multiple of 24, every micro-kernel's MR divides it, 24...240), KC 256 and NC 480 as
  /// the runtime's defaults (a KC x NR panel of B stays within half of L1 for every NR <= 16).
  public var tilingDefines: [String] {
    let kc = 256
    let mc = min(240, max(24, (l2Bytes / 2) / (kc * 4) / 24 * 24))
    return ["-DGRAFT_SGEMM_MC=\(mc)", "-DGRAFT_SGEMM_KC=\(kc)", "-DGRAFT_SGEMM_NC=480"]
  }

  /// The C compiler command.
  public var cc: String { triple.isEmpty ? "cc" : triple + "-gcc" }
  /// The archiver command.
  public var ar: String { triple.isEmpty ? "ar" : triple + "-ar" }
  /// The `size` command.
  public var sizeTool: String { triple.isEmpty ? "size" : triple + "-size" }

  /// ARM targets: let GCC vectorize the portable loops (depthwise rows, elementwise kernels)
  /// beyond -O2's "very cheap" model and fuse multiply-adds into fmla/vfma (results move by
  /// rounding only; the cross tests compare them with the x86 build at 1e-5). -O3 would push
  /// the trimmed ResNet-50 runtime to the 64 KB .text limit; this stays near 41 KB.
  static let armVectorFlags = ["-fvect-cost-model=cheap", "-ffp-contract=fast"]

  public static let all: [DeployTarget] = [
    DeployTarget(name: "x86_64", summary: "x86-64 with AVX2 + FMA (x86-64-v3), Linux",
                 triple: "", cflags: ["-march=x86-64-v3"], kernelDir: nil,
                 vectorBits: 256, l1DataBytes: 32 << 10, l2Bytes: 1 << 20, emulator: ""),
    DeployTarget(name: "x86_64-avx512", summary: "x86-64 with AVX-512 F/VL/DQ/BW (x86-64-v4), Linux",
                 triple: "", cflags: ["-march=x86-64-v4"], kernelDir: nil,
                 vectorBits: 512, l1DataBytes: 48 << 10, l2Bytes: 2 << 20, emulator: ""),
    DeployTarget(name: "aarch64", summary: "64-bit ARM (ARMv8-A, NEON), Linux, e.g. Cortex-A53/A72",
                 triple: "aarch64-linux-gnu", cflags: ["-march=armv8-a"] + armVectorFlags, kernelDir: "aarch64",
                 vectorBits: 128, l1DataBytes: 32 << 10, l2Bytes: 512 << 10, emulator: "qemu-aarch64"),
    DeployTarget(name: "armv7", summary: "32-bit ARM (ARMv7-A, NEON, VFPv4, hard float), Linux, e.g. Cortex-A7",
                 triple: "arm-linux-gnueabihf",
                 cflags: ["-march=armv7-a", "-mfpu=neon-vfpv4", "-mfloat-abi=hard"] + armVectorFlags,
                 kernelDir: "armv7",
                 vectorBits: 128, l1DataBytes: 32 << 10, l2Bytes: 256 << 10, emulator: "qemu-arm"),
    DeployTarget(name: "generic",
                 summary: "portable C99, host compiler, no architecture flags (on x86-64 the runtime still picks SIMD paths the CPU has; GRAFT_CPU=generic forces portable C)",
                 triple: "", cflags: [], kernelDir: nil,
                 vectorBits: 0, l1DataBytes: 32 << 10, l2Bytes: 256 << 10, emulator: ""),
  ]

  /// The target with this name, or nil.
  public static func named(_ name: String) -> DeployTarget? {
    all.first { $0.name == name }
  }
}
