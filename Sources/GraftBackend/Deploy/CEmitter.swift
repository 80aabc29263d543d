import Foundation
import GraftIR

/// `graft emit-c`: one C99 file that runs a model as a straight-line sequence of kernel
/// calls, a header, and the weights as a binary blob.
///
/// Contract
/// - Input: an archive the runtime has validated (`DeployArchive`); every node passed its
///   kernel's check when it was opened, so the emitted code calls `graft_<kernel>_eval`
///   directly, with no kernel table and no archive parsing on the board. Link with the
///   runtime's `libgraft.a` (and `-Wl,--gc-sections`: only the called kernels stay).
/// - Emitted API, for identifier `m` (from the output file name):
///   `GRAFT_M_ARENA_BYTES`, `GRAFT_M_WEIGHTS_BYTES`, `GRAFT_M_INPUT_COUNT`/`OUTPUT_COUNT`,
///   `GRAFT_M_INPUT<k>_OFFSET`/`_BYTES` and `GRAFT_M_OUTPUT<k>_OFFSET`/`_BYTES` (arena offsets:
///   write inputs at arena + offset, read outputs there), `graft_m_run(arena, weights)`, and
///   `graft_m_weights` (the blob, from the `.S` file's `.incbin`).
/// - Arena and weights must be 64-byte aligned (the `.S` aligns the blob). The run never
///   allocates; it returns the first failing kernel status.
/// - Weights are never written as decimal text: `<m>.weights.bin` holds the raw WEIGHTS bytes;
///   `<m>.weights.S` includes it with `.incbin` (GNU as; assemble with `-I` pointing at the
///   folder of the .bin). Attribute floats are written as their IEEE bit patterns.
/// - Quantized tensors are refused (their parameters are not emitted yet).
public enum CEmitter {
  public struct Output: Sendable {
    public var identifier: String
    public var source: String
    public var header: String
    public var assembly: String
    public var weights: [UInt8]
  }

  /// A C identifier from a file name: lower case, [a-z0-9_], never starting with a digit.
  public static func identifier(_ name: String) -> String {
    var s = String(name.lowercased().unicodeScalars.map { c -> Character in
      (c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c))) ? Character(c) : "_"
    })
    if s.isEmpty || s.first?.isNumber == true { s = "m" + s }
    return s
  }

  public static func emit(_ a: DeployArchive, identifier m: String) throws -> Output {
    if a.quantized {
      throw GraftError(.unsupported, at: Location(file: a.file), "emit-c does not emit quantized tensors yet")
    }
    let kernels = try KernelConfig.entries(a.kernelIds, file: a.file)
    var kname: [UInt32: String] = [:]
    for k in kernels { kname[k.id] = k.name }
    let M = m.uppercased()
    let headerName = m + ".h"

    // Header.
    var h = """
      /* \(headerName): \(a.file) as straight-line C (written by `graft emit-c`).
         Contract: caller owns a GRAFT_\(M)_ARENA_BYTES arena and the weights blob, both 64-byte
         aligned; write inputs at arena + GRAFT_\(M)_INPUT<k>_OFFSET, call graft_\(m)_run, read
         outputs at arena + GRAFT_\(M)_OUTPUT<k>_OFFSET. Inputs may be overwritten by the run.
         Never allocates. Link with libgraft.a. */
      #ifndef GRAFT_\(M)_H
      #define GRAFT_\(M)_H
      #include "graft_kernels.h"
      #ifdef __cplusplus
      extern "C" {
      #endif
      #define GRAFT_\(M)_ARENA_BYTES \(a.arenaBytes)u
      #define GRAFT_\(M)_WEIGHTS_BYTES \(a.weights.count)u
      #define GRAFT_\(M)_INPUT_COUNT \(a.inputs.count)
      #define GRAFT_\(M)_OUTPUT_COUNT \(a.outputs.count)

      """
    for (k, t) in a.inputs.enumerated() {
      let e = a.tensors[t]
      h += "#define GRAFT_\(M)_INPUT\(k)_OFFSET \(e.offset)u /* '\(cComment(e.name))' dtype \(e.dtype) dims \(e.dims) */\n"
      h += "#define GRAFT_\(M)_INPUT\(k)_BYTES \(e.bytes)u\n"
    }
    for (k, t) in a.outputs.enumerated() {
      let e = a.tensors[t]
      h += "#define GRAFT_\(M)_OUTPUT\(k)_OFFSET \(e.offset)u /* '\(cComment(e.name))' dtype \(e.dtype) dims \(e.dims) */\n"
      h += "#define GRAFT_\(M)_OUTPUT\(k)_BYTES \(e.bytes)u\n"
    }
    func list(_ xs: [Int], _ f: (DeployArchive.TensorEntry) -> UInt64) -> String {
      xs.map { "\(f(a.tensors[$0]))u" }.joined(separator: ", ")
    }
    h += "#define GRAFT_\(M)_INPUT_OFFSETS \(list(a.inputs, \.offset))\n"
    h += "#define GRAFT_\(M)_INPUT_SIZES \(list(a.inputs, \.bytes))\n"
    h += "#define GRAFT_\(M)_OUTPUT_OFFSETS \(list(a.outputs, \.offset))\n"
    h += "#define GRAFT_\(M)_OUTPUT_SIZES \(list(a.outputs, \.bytes))\n"
    h += """
      /* The weights blob (\(m).weights.S: .incbin of \(m).weights.bin), 64-byte aligned. */
      extern const unsigned char graft_\(m)_weights[];
      /* Runs every node in order; returns GRAFT_OK or the first failing kernel status. */
      graft_status graft_\(m)_run(void *arena, const void *weights);
      #ifdef __cplusplus
      }
      #endif
      #endif

      """

    // Source.
    var c = """
      /* \(m).c: \(a.file) as a straight-line kernel call sequence (written by `graft emit-c`;
         \(a.nodes.count) nodes, \(kernels.count) kernels). See \(headerName) for the contract. */
      #include "\(headerName)"

      #define A(off) ((void *)(arena_ + (off)))
      #define W(off) ((void *)(weights_ + (off)))

      /* Tensor views: data, dtype, rank, dims. */
      #define T(ptr, dt, r, ...) {(ptr), (dt), (r), {__VA_ARGS__}, 0, 0, 0, 0}

      """
    // Attribute data.
    for (i, n) in a.nodes.enumerated() where !n.attrs.isEmpty {
      var entries: [String] = []
      for (j, at) in n.attrs.enumerated() {
        let count = at.type <= 2 ? at.ints.count : at.floats.count
        if at.type <= 2 {
          c += "static const int64_t n\(i)_i\(j)[\(max(count, 1))] = {\(at.ints.isEmpty ? "0" : at.ints.map(int64Literal).joined(separator: ", "))};\n"
          entries.append("{\(at.key), \(at.type), \(count), n\(i)_i\(j), 0}")
        } else {
          let bits = at.floats.map { String(format: "0x%08xu", $0.bitPattern) }
          c += "static const union { uint32_t u[\(max(count, 1))]; float f[\(max(count, 1))]; } n\(i)_f\(j) = {{\(bits.isEmpty ? "0u" : bits.joined(separator: ", "))}};\n"
          entries.append("{\(at.key), \(at.type), \(count), 0, n\(i)_f\(j).f}")
        }
      }
      c += "static const graft_attr n\(i)_attrs[\(n.attrs.count)] = {\(entries.joined(separator: ", "))};\n"
    }

    c += """

      graft_status graft_\(m)_run(void *arena, const void *weights) {
        unsigned char *const arena_ = (unsigned char *)arena;
        const unsigned char *const weights_ = (const unsigned char *)weights;
        graft_status st;
        (void)arena_;
        (void)weights_;

      """
    func view(_ t: Int32) -> String {
      let e = a.tensors[Int(t)]
      let ptr = e.isWeight ? "W(\(e.offset))" : "A(\(e.offset))"
      let dims = e.dims.isEmpty ? "0" : e.dims.map(int64Literal).joined(separator: ", ")
      return "T(\(ptr), \(e.dtype), \(e.dims.count), \(dims))"
    }
    for (i, n) in a.nodes.enumerated() {
      guard let k = kname[n.kernel] else { continue }
      c += "  { /* node \(i) '\(cComment(n.name))': \(k) */\n"
      let present = n.inputs.enumerated().filter { $0.element >= 0 }
      if !present.isEmpty {
        c += "    graft_tensor i_[\(present.count)] = {" + present.map { view($0.element) }.joined(separator: ", ") + "};\n"
      }
      c += "    graft_tensor o_[\(max(n.outputs.count, 1))] = {" + (n.outputs.isEmpty ? "{0}" : n.outputs.map(view).joined(separator: ", ")) + "};\n"
      var slot = 0
      let inPtrs = n.inputs.map { t -> String in
        if t < 0 { return "0" }
        defer { slot += 1 }
        return "&i_[\(slot)]"
      }
      c += "    const graft_tensor *const in_[\(max(n.inputs.count, 1))] = {\(inPtrs.isEmpty ? "0" : inPtrs.joined(separator: ", "))};\n"
      c += "    graft_tensor *const out_[\(max(n.outputs.count, 1))] = {\(n.outputs.isEmpty ? "0" : n.outputs.indices.map { "&o_[\($0)]" }.joined(separator: ", "))};\n"
      let scratch = n.scratchBytes > 0 ? "A(\(n.scratchOffset))" : "0"
      c += "    graft_call c_ = {in_, out_, \(n.inputs.count), \(n.outputs.count), \(n.attrs.isEmpty ? "0" : "n\(i)_attrs"), \(n.attrs.count), \(scratch), \(n.scratchBytes)u};\n"
      c += "    if ((st = graft_\(k)_eval(&c_)) != GRAFT_OK) return st;\n  }\n"
    }
    c += "  return GRAFT_OK;\n}\n"

    let asm = """
      /* \(m).weights.S: the weights of \(m) (\(a.weights.count) bytes) as one 64-byte aligned blob.
         Assemble with -I pointing at the folder that holds \(m).weights.bin. */
        .section .rodata.graft_\(m)_weights,"a"
        .balign 64
        .globl graft_\(m)_weights
        .type graft_\(m)_weights, %object
      graft_\(m)_weights:
        .incbin "\(m).weights.bin"
        .byte 0
        .size graft_\(m)_weights, . - graft_\(m)_weights
        .section .note.GNU-stack,"",%progbits

      """
    return Output(identifier: m, source: c, header: h, assembly: asm, weights: a.weights)
  }

  /// Writes `<dir>/<m>.c`, `.h`, `.weights.bin` and `.weights.S`; returns their paths.
  public static func write(_ o: Output, cPath: String) throws -> [String] {
    let dir = (cPath as NSString).deletingLastPathComponent
    let base = dir.isEmpty ? "" : dir + "/"
    let paths = [cPath, base + o.identifier + ".h", base + o.identifier + ".weights.S", base + o.identifier + ".weights.bin"]
    if !dir.isEmpty {
      do {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
      } catch {
        throw GraftError(.io, at: Location(file: dir), "cannot create folder")
      }
    }
    for (p, text) in zip(paths, [o.source, o.header, o.assembly]) {
      try Array(text.utf8).withUnsafeBytes { try writeFileAtomically(p, bytes: $0) }
    }
    try o.weights.withUnsafeBytes { try writeFileAtomically(paths[3], bytes: $0) }
    return paths
  }

  static func int64Literal(_ v: Int64) -> String {
    v == Int64.min ? "INT64_MIN" : "INT64_C(\(v))"
  }

  /// A name safe inside a C block comment.
  static func cComment(_ s: String) -> String {
    s.replacingOccurrences(of: "*/", with: "* /").replacingOccurrences(of: "\n", with: " ")
  }
}
