import Foundation
import GraftIR

/// Builds small graphs for shape tests: inputs, initializers, nodes, outputs.
public struct ShapeGraphBuilder {
  public var graph = Graph(name: "test")
  private var counter = 0

  public init() {}

  /// A float (or other dtype) graph input with the given dims; strings are symbols.
  @discardableResult
  public mutating func input(_ name: String, _ dims: [Dim], _ dtype: DType = .float32) -> String {
    graph.inputs.append(ValueInfo(name: name, type: TensorType(dtype, dims)))
    return name
  }

  @discardableResult
  public mutating func input(_ name: String, _ dims: [Int], _ dtype: DType = .float32) -> String {
    input(name, dims.map { Dim.known($0) }, dtype)
  }

  /// An int64 initializer.
  @discardableResult
  public mutating func ints(_ name: String, _ values: [Int64], scalar: Bool = false) -> String {
    graph.initializers.append((name, Tensor.int64(scalar ? [] : [values.count], values)))
    return name
  }

  /// A float initializer of the given dims filled with `fill`.
  @discardableResult
  public mutating func weight(_ name: String, _ dims: [Int], fill: Float = 0.5) -> String {
    graph.initializers.append((name, Tensor.float32(dims, Array(repeating: fill, count: elementCount(dims)))))
    return name
  }

  /// Adds a node; returns its first output. Outputs default to `<op><n>` names.
  @discardableResult
  public mutating func node(_ op: String, _ inputs: [String], outputs: [String]? = nil,
                            _ attributes: [Attribute] = []) -> String {
    counter += 1
    let outs = outputs ?? ["\(op.lowercased())\(counter)"]
    graph.nodes.append(Node(name: "\(op)_\(counter)", opType: op, inputs: inputs, outputs: outs, attributes: attributes))
    return outs[0]
  }

  public mutating func output(_ names: String...) {
    for n in names { graph.outputs.append(ValueInfo(name: n, type: nil)) }
  }
}

/// Attribute shorthands.
public func intAttr(_ name: String, _ v: Int64) -> Attribute { Attribute(name, .int(v)) }
public func intsAttr(_ name: String, _ v: [Int64]) -> Attribute { Attribute(name, .ints(v)) }
public func floatAttr(_ name: String, _ v: Float) -> Attribute { Attribute(name, .float(v)) }
public func floatsAttr(_ name: String, _ v: [Float]) -> Attribute { Attribute(name, .floats(v)) }
public func stringAttr(_ name: String, _ v: String) -> Attribute { Attribute(name, .string(Array(v.utf8))) }

/// The shared models folder (`../shared/models` from the repository root), found from this file.
public var sharedModelsDirectory: String {
  var url = URL(fileURLWithPath: #filePath)
  for _ in 0..<8 {
    url.deleteLastPathComponent()
    let candidate = url.appendingPathComponent("shared/models").path
    if FileManager.default.fileExists(atPath: candidate + "/README.md") { return candidate }
  }
  return "/work/shared/models"
}
