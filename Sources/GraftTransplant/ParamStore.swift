import GraftIR

/// Float parameters of one graph's layers in canonical layout, editable, with a per-element
/// mask of what came from the source. Written back into the graph in stored layout at the end.
struct ParamStore {
  var values: [String: [Float]] = [:]
  var covered: [String: [Bool]] = [:]
  var shapes: [String: [Int]] = [:]
  var transposed: [String: Bool] = [:]

  init(graph: Graph, layers: [Layer]) {
    let inits = graph.initializerMap
    for layer in layers {
      for p in layer.params {
        guard let t = inits[p.name] else { continue }
        var v = t.values(as: Float.self)
        if p.transposed, t.dims.count == 2 { v = transpose2D(v, rows: t.dims[0], cols: t.dims[1]) }
        values[p.name] = v
        covered[p.name] = Array(repeating: false, count: v.count)
        shapes[p.name] = p.canonicalShape
        transposed[p.name] = p.transposed
      }
    }
  }

  /// Canonical values of one parameter of a graph (for the source side).
  static func canonical(_ p: LayerParam, in inits: [String: Tensor]) -> [Float]? {
    guard let t = inits[p.name] else { return nil }
    let v = t.values(as: Float.self)
    return p.transposed && t.dims.count == 2 ? transpose2D(v, rows: t.dims[0], cols: t.dims[1]) : v
  }

  /// Copies the edited parameters back into `graph`, in each initializer's stored layout and
  /// dims (dtype and shape never change).
  func write(into graph: inout Graph) {
    let inits = graph.initializerMap
    for (name, v) in values {
      guard let old = inits[name] else { continue }
      var stored = v
      if transposed[name] == true, old.dims.count == 2 {
        stored = transpose2D(v, rows: old.dims[1], cols: old.dims[0])
      }
      graph.setInitializer(name, Tensor(dtype: .float32, dims: old.dims, values: stored))
    }
  }
}
