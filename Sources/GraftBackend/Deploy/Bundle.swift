import Foundation
import GraftIR

/// Writes a board bundle: everything `make` on a build host needs to produce a trimmed
/// `libgraft.a` and the sample program for one target.
///
/// Contract
/// - `write` fills `dir` (created if missing; files it writes are replaced, others left alone)
///   with `model.graft` (copied from `archive`), `graft_config.h`, `runtime/` (the public
///   headers, `src/`, `kernels/reference/` and every target's `kernels/<dir>/`; the Makefile
///   compiles the reference files with this target's same-basename files replacing them, as
///   runtime/Makefile does),
///   `graft_run.c`, `Makefile` and `README.md`.
/// - The sources are read from `sources` (a Graft checkout: `runtime/`, `samples/board/`).
/// - Returns the paths written, relative to `dir`, in order.
public enum DeployBundle {
  /// A Graft source tree: the explicit path, else `GRAFT_HOME`, else the tree this binary was
  /// built from, else a parent of the executable; nil when none has `runtime/include/graft.h`.
  public static func locateSources(_ explicit: String? = nil) -> String? {
    var candidates: [String] = []
    if let explicit { return isSourceTree(explicit) ? explicit : nil }
    if let env = ProcessInfo.processInfo.environment["GRAFT_HOME"] { candidates.append(env) }
    // Sources/GraftBackend/Deploy/Bundle.swift -> the tree root.
    var here = URL(fileURLWithPath: #filePath)
    for _ in 0..<4 { here.deleteLastPathComponent() }
    candidates.append(here.path)
    var exe = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
    for _ in 0..<5 {
      exe.deleteLastPathComponent()
      candidates.append(exe.path)
    }
    return candidates.first(where: isSourceTree)
  }

  static func isSourceTree(_ path: String) -> Bool {
    FileManager.default.fileExists(atPath: path + "/runtime/include/graft.h")
      && FileManager.default.fileExists(atPath: path + "/samples/board/graft_run.c")
  }

  public static func write(archive: String, modelName: String, kernels: [KernelConfig.Entry],
                           target: DeployTarget, sources: String, to dir: String,
                           sampleArgs: [String] = []) throws -> [String] {
    let fm = FileManager.default
    var written: [String] = []
    func put(_ rel: String, _ text: String) throws {
      let path = dir + "/" + rel
      try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      do {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
      } catch {
        throw GraftError(.io, at: Location(file: path), "cannot write")
      }
      written.append(rel)
    }
    func copy(_ from: String, _ rel: String) throws {
      let path = dir + "/" + rel
      try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      guard let data = fm.contents(atPath: from) else { throw GraftError(.io, at: Location(file: from), "cannot read") }
      guard fm.createFile(atPath: path, contents: data) else { throw GraftError(.io, at: Location(file: path), "cannot write") }
      written.append(rel)
    }
    func files(_ folder: String, _ exts: [String]) -> [String] {
      ((try? fm.contentsOfDirectory(atPath: folder)) ?? []).filter { f in exts.contains { f.hasSuffix($0) } }.sorted()
    }

    try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let archiveDest = dir + "/model.graft"
    if URL(fileURLWithPath: archive).standardizedFileURL != URL(fileURLWithPath: archiveDest).standardizedFileURL {
      try copy(archive, "model.graft")
    } else {
      written.append("model.graft")
    }
    try put("graft_config.h", KernelConfig.header(kernels, model: modelName))
    let rt = sources + "/runtime"
    for f in files(rt + "/include", [".h"]) { try copy(rt + "/include/" + f, "runtime/include/" + f) }
    for f in files(rt + "/src", [".c", ".h"]) { try copy(rt + "/src/" + f, "runtime/src/" + f) }
    // Every kernel folder: the reference, this target's, and any a target file includes
    // (kernels/armv7/sgemm.c includes ../aarch64/sgemm.c). The Makefile compiles only the
    // reference and this target's folder.
    let kernelDirs = ((try? fm.contentsOfDirectory(atPath: rt + "/kernels")) ?? []).sorted()
    for kd in kernelDirs where kd == "reference" || DeployTarget.all.contains(where: { $0.kernelDir == kd }) {
      for f in files(rt + "/kernels/" + kd, [".c", ".h"]) { try copy(rt + "/kernels/\(kd)/" + f, "runtime/kernels/\(kd)/" + f) }
    }
    try copy(sources + "/samples/board/graft_run.c", "graft_run.c")
    try put("Makefile", makefile(target, sampleArgs: sampleArgs))
    try put("README.md", readme(target, modelName: modelName, kernels: kernels))
    return written
  }

  static func makefile(_ t: DeployTarget, sampleArgs: [String]) -> String {
    let run = t.emulator.isEmpty ? "" : t.emulator + " "
    return """
      # Board build for target '\(t.name)' (written by `graft build`): a trimmed static libgraft.a
      # and the sample program graft_run.
      #   make            libgraft.a and graft_run
      #   make TRIM=0     libgraft-full.a and graft_run-full: every kernel (no graft_config.h)
      #   make run        run the model once on zero inputs (\(t.emulator.isEmpty ? "natively" : "under " + t.emulator + " here"))
      #   make size       text/data sizes of libgraft.a and of graft_run
      # CC, AR, OPT and ARCH_FLAGS may be overridden on the command line.
      CC = \(t.cc)
      AR = \(t.ar)
      SIZE = \(t.sizeTool)
      RUN = \(run)
      OPT = -O2
      ARCH_FLAGS = \(t.cflags.joined(separator: " "))
      # sgemm blocking from the target's cache sizes (L1d \(t.l1DataBytes >> 10) KB, L2 \(t.l2Bytes >> 10) KB)
      TILE_FLAGS = \(t.tilingDefines.joined(separator: " "))
      TRIM = 1
      CFLAGS = $(OPT) $(ARCH_FLAGS) -std=c99 -Wall -fno-math-errno -ffunction-sections -fdata-sections
      TRIM_FLAGS = $(if $(filter 0,$(TRIM)),,-DGRAFT_TRIMMED '-DGRAFT_CONFIG_HEADER="$(CURDIR)/graft_config.h"')
      # Target kernels replace the reference kernel of the same basename.
      TGT_DIR = \(t.kernelDir.map { "runtime/kernels/" + $0 } ?? "")
      TGT_SRCS = $(if $(TGT_DIR),$(sort $(wildcard $(TGT_DIR)/*.c)))
      REF_SRCS = $(filter-out $(addprefix runtime/kernels/reference/,$(notdir $(TGT_SRCS))),$(sort $(wildcard runtime/kernels/reference/*.c)))
      CPPFLAGS = -D_POSIX_C_SOURCE=200809L -Iruntime/include -Iruntime/src $(if $(TGT_SRCS),-I$(TGT_DIR)) -Iruntime/kernels/reference $(TILE_FLAGS) $(TRIM_FLAGS)
      LDFLAGS = -static -Wl,--gc-sections
      LIB_SRCS = $(sort $(wildcard runtime/src/*.c)) $(REF_SRCS) $(TGT_SRCS)
      OBJ = obj$(if $(filter 0,$(TRIM)),-full)
      OBJS = $(patsubst %.c,$(OBJ)/%.o,$(LIB_SRCS))
      SUFFIX = $(if $(filter 0,$(TRIM)),-full)
      LIB = libgraft$(SUFFIX).a
      PROG = graft_run$(SUFFIX)

      .PHONY: all run size clean
      all: $(PROG)

      $(OBJ)/%.o: %.c $(wildcard runtime/include/*.h runtime/src/*.h runtime/kernels/*/*.h)
      \tmkdir -p $(dir $@)
      \t$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

      # Only the kernel table depends on the kernel list.
      $(OBJ)/runtime/src/kernel_table.o: graft_config.h

      $(LIB): $(OBJS)
      \trm -f $@
      \t$(AR) rcs $@ $^

      $(PROG): graft_run.c $(LIB)
      \t$(CC) $(CPPFLAGS) $(CFLAGS) graft_run.c $(LIB) -lm $(LDFLAGS) -Wl,-Map=$(PROG).map -o $@

      run: $(PROG)
      \t$(RUN)./$(PROG) model.graft\(sampleArgs.isEmpty ? "" : " " + sampleArgs.joined(separator: " "))

      size: $(PROG)
      \t$(SIZE) -t $(LIB) | tail -1
      \t$(SIZE) $(PROG)

      clean:
      \trm -rf obj obj-full libgraft.a libgraft-full.a graft_run graft_run-full graft_run.map graft_run-full.map

      """
  }

  static func readme(_ t: DeployTarget, modelName: String, kernels: [KernelConfig.Entry]) -> String {
    """
    # \(modelName) for \(t.name)

    Written by `graft build --target \(t.name)`. Target: \(t.summary).
    Compiler `\(t.cc)` with `\(t.cflags.joined(separator: " "))`; SIMD width \(t.vectorBits) bits;
    tiling assumes L1d \(t.l1DataBytes >> 10) KB, L2 \(t.l2Bytes >> 10) KB.

    | file | what |
    |---|---|
    | `model.graft` | the compiled model (weights, plan); copy it to the board |
    | `graft_config.h` | the \(kernels.count) kernels this model uses: the runtime is built with only these |
    | `runtime/` | the Graft C99 runtime sources (reference kernels, and this target's same-basename replacements when it has any) |
    | `graft_run.c` | sample program: reads `.npy` inputs, runs, writes `output_K.npy`, prints latency |
    | `Makefile` | `make` builds `libgraft.a` (trimmed) and `graft_run` (static) |

    ```sh
    make                                  # needs \(t.cc)
    ./graft_run model.graft -n 10 -o out input_0.npy   # on the board
    ```

    `graft_run MODEL.graft [-n RUNS] [-o OUTDIR] [-q] [INPUT.npy ...]`: inputs in the model's
    input order, dtype and shape exactly the model's (no inputs: zeros, for timing). Memory is
    allocated once before the first run: the archive, the arena
    (`graft_model_arena_bytes`) and, for compressed archives, the weights. Kernels: \(kernels.map(\.name).joined(separator: ", ")).

    """
  }
}
