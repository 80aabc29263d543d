import GraftIR
import GraftRuntime

/// One kernel attribute as the archive stores it: a `GRAFT_ATTR_*` key and its typed value.
public struct KernelAttr: Sendable, Equatable, CustomStringConvertible {
  public enum Value: Sendable, Equatable {
    case int(Int64)
    case ints([Int64])
    case float(Float)
    case floats([Float])
  }

  /// `graft_attr_key` value.
  public var key: Int32
  public var value: Value

  public init(_ key: graft_attr_key, _ value: Value) {
    self.key = Int32(bitPattern: key.rawValue)
    self.value = value
  }

  public init(key: Int32, _ value: Value) {
    self.key = key
    self.value = value
  }

  public var description: String {
    switch value {
    case .int(let v): return "\(key)=\(v)"
    case .ints(let v): return "\(key)=\(v)"
    case .float(let v): return "\(key)=\(v)"
    case .floats(let v): return "\(key)=\(v)"
    }
  }
}

/// A node lowered to one runtime kernel: what the archive's node record holds, by name.
///
/// Contract: `inputs` are the kernel's inputs in its order, "" for an omitted optional input
/// (never trailing: trailing omitted inputs are dropped); every constant input the kernel does
/// not read (Slice starts, Reshape shape, Resize scales, …) has been folded into `attrs`.
public struct LoweredNode: Sendable {
  /// The ONNX node's name (for messages and STRINGS).
  public var name: String
  public var opType: String
  /// `GRAFT_KERNEL_*` id.
  public var kernel: UInt32
  public var inputs: [String]
  public var outputs: [String]
  public var attrs: [KernelAttr]
  /// Types of outputs the lowering invented (an RNN's omitted middle output the kernel still
  /// writes); they are arena tensors like any other.
  public var syntheticTypes: [String: TensorType] = [:]

  public init(name: String, opType: String, kernel: UInt32, inputs: [String], outputs: [String],
              attrs: [KernelAttr]) {
    self.name = name
    self.opType = opType
    self.kernel = kernel
    var ins = inputs
    while let last = ins.last, last.isEmpty { ins.removeLast() }
    self.inputs = ins
    self.outputs = outputs
    self.attrs = attrs
  }

  /// The kernel's name in the runtime table (`conv_f32`), or `kernel#N` when unknown.
  public var kernelName: String { Kernels.name(of: kernel) }

  /// The value of attribute `key`, if set.
  public func attr(_ key: graft_attr_key) -> KernelAttr.Value? {
    attrs.first(where: { $0.key == Int32(bitPattern: key.rawValue) })?.value
  }

  /// True for the reshape family (`copy_any`): the output may alias the input.
  public var isCopy: Bool { kernel == Kernels.id(GRAFT_KERNEL_copy_any) }
}

/// Lookups in the runtime's kernel table.
public enum Kernels {
  /// Converts an imported `GRAFT_KERNEL_*` constant to an id.
  public static func id(_ k: Int) -> UInt32 { UInt32(k) }

  public static func name(of id: UInt32) -> String {
    guard let k = graft_kernel_get(id), let n = k.pointee.name else { return "kernel#\(id)" }
    return String(cString: n)
  }

  /// (min inputs, max inputs, min outputs, max outputs) of a kernel, or nil if unknown.
  public static func arity(of id: UInt32) -> (Int, Int, Int, Int)? {
    guard let k = graft_kernel_get(id) else { return nil }
    let p = k.pointee
    return (Int(p.min_inputs), Int(p.max_inputs), Int(p.min_outputs), Int(p.max_outputs))
  }

  /// A short constant name for a status (`GRAFT_E_SHAPE`).
  public static func statusName(_ s: graft_status) -> String {
    switch s.rawValue {
    case 0: return "GRAFT_OK"
    case -1: return "GRAFT_E_ARG"
    case -2: return "GRAFT_E_FORMAT"
    case -3: return "GRAFT_E_VERSION"
    case -4: return "GRAFT_E_TRUNCATED"
    case -5: return "GRAFT_E_CRC"
    case -6: return "GRAFT_E_BOUNDS"
    case -7: return "GRAFT_E_KERNEL"
    case -8: return "GRAFT_E_ARITY"
    case -9: return "GRAFT_E_SHAPE"
    case -10: return "GRAFT_E_ARENA_TOO_SMALL"
    case -11: return "GRAFT_E_UNSUPPORTED"
    case -12: return "GRAFT_E_DECOMPRESS"
    case -13: return "GRAFT_E_NUMERIC"
    case -14: return "GRAFT_E_ALIGN"
    default: return "GRAFT_E_UNKNOWN(\(s.rawValue))"
    }
  }
}
