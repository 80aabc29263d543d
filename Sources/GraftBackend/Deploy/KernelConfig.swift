import GraftIR
import GraftRuntime

/// The trimmed runtime's kernel list: `graft_config.h` with `GRAFT_KERNEL_KEEP(X)` naming the
/// `GRAFT_KERNEL_LIST` entries one model uses (runtime/README.md, "Trimmed builds").
///
/// Contract
/// - Entries are copied from the runtime's own kernel table (`graft_kernel_get`), so id, name
///   and arity bounds are exactly the full list's; ids come out sorted, each once.
/// - An id unknown to this runtime is an `.unsupported` error naming it.
public enum KernelConfig {
  public struct Entry: Sendable, Equatable {
    public var id: UInt32
    public var name: String
    public var minInputs, maxInputs, minOutputs, maxOutputs: Int32

    public init(id: UInt32, name: String, minInputs: Int32, maxInputs: Int32, minOutputs: Int32, maxOutputs: Int32) {
      self.id = id
      self.name = name
      self.minInputs = minInputs
      self.maxInputs = maxInputs
      self.minOutputs = minOutputs
      self.maxOutputs = maxOutputs
    }
  }

  public static func entries(_ ids: [UInt32], file: String = "") throws -> [Entry] {
    try Array(Set(ids)).sorted().map { id in
      guard let k = graft_kernel_get(id)?.pointee, let name = k.name.map({ String(cString: $0) }) else {
        throw GraftError(.unsupported, at: Location(file: file), "kernel id \(id) is not in this runtime")
      }
      return Entry(id: id, name: name, minInputs: k.min_inputs, maxInputs: k.max_inputs,
                   minOutputs: k.min_outputs, maxOutputs: k.max_outputs)
    }
  }

  /// The header text for `entries`; `model` names the model in the comment.
  public static func header(_ entries: [Entry], model: String) -> String {
    var s = """
      /* graft_config.h: the kernels \(model) uses (written by `graft build`).
         The trimmed runtime's kernel table holds exactly these; with -ffunction-sections and
         -Wl,--gc-sections the other kernels' code is dropped. An archive that needs another
         kernel is refused at open with GRAFT_E_KERNEL. */
      #ifndef GRAFT_CONFIG_H
      #define GRAFT_CONFIG_H
      #define GRAFT_KERNEL_KEEP(X)
      """
    for e in entries {
      s += " \\\n  X(\(e.id), \(e.name), \(e.minInputs), \(e.maxInputs), \(e.minOutputs), \(e.maxOutputs))"
    }
    s += "\n#endif\n"
    return s
  }
}
