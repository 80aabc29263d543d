import Foundation

extension TransplantReport {
  /// A text table: one row per target layer (source layer, score, % of its parameters
  /// copied), then the totals.
  public var text: String {
    var lines: [String] = []
    lines.append("transplant \(sourceFile) -> \(targetFile) (init: \(initMode.rawValue), seed \(seed))")
    func count(_ n: Int, _ what: String) -> String { "\(n) \(what)\(n == 1 ? "" : "s")" }
    lines.append("source: \(count(sourceLayers, "layer")) in \(count(sourceBlocks, "block")); "
                 + "target: \(count(targetLayers, "layer")) in \(count(targetBlocks, "block"))")
    lines.append(String(format: "D(source->target) %.4f, similarity %.4f", matchValue, similarity.value))
    lines.append("")
    let tw = max(12, min(48, layers.map(\.target.count).max() ?? 12))
    let sw = max(12, min(48, layers.compactMap(\.source?.count).max() ?? 12))
    func pad(_ s: String, _ w: Int) -> String {
      s.count >= w ? String(s.prefix(w)) : s + String(repeating: " ", count: w - s.count)
    }
    lines.append(pad("target layer", tw) + "  " + pad("class", 16) + "  " + pad("source layer", sw) + "   score  params  copied")
    for l in layers {
      let pct = l.elements > 0 ? 100 * Double(l.copied) / Double(l.elements) : 0
      var row = pad(l.target, tw) + "  " + pad(l.targetClass, 16) + "  " + pad(l.source ?? "-", sw)
      row += String(format: "  %6.3f  %6d  %5.1f%%", l.score, l.elements, pct)
      if let note = l.note { row += "  (\(note))" }
      lines.append(row)
    }
    lines.append("")
    lines.append(String(format: "%d of %d target layers filled; %d of %d target parameters (%.1f%%) from the source",
                        matchedLayers, targetLayers, copiedParameters, targetParameters, 100 * fraction))
    return lines.joined(separator: "\n")
  }

  /// The same as JSON (per-tensor fractions included).
  public var json: String {
    var o: [String: Any] = [
      "source": sourceFile, "target": targetFile, "init": initMode.rawValue, "seed": seed,
      "match_value": matchValue,
      "similarity": ["value": similarity.value, "d_source_target": similarity.forward,
                     "d_target_source": similarity.backward, "d_source_source": similarity.selfA,
                     "d_target_target": similarity.selfB],
      "source_layers": sourceLayers, "source_blocks": sourceBlocks,
      "target_layers": targetLayers, "target_blocks": targetBlocks,
      "target_parameters": targetParameters, "copied_parameters": copiedParameters,
      "fraction": fraction, "matched_layers": matchedLayers,
    ]
    o["layers"] = layers.map { l -> [String: Any] in
      var e: [String: Any] = [
        "target": l.target, "class": l.targetClass, "score": l.score, "parameters": l.elements, "copied": l.copied,
        "fraction": l.elements > 0 ? Double(l.copied) / Double(l.elements) : 0,
        "tensors": l.tensors.map { t -> [String: Any] in
          var d: [String: Any] = ["name": t.name, "role": t.role.rawValue, "shape": t.shape,
                                  "elements": t.elements, "copied": t.copied, "fraction": t.fraction]
          if let s = t.sourceName { d["source"] = s }
          if let s = t.sourceShape { d["source_shape"] = s }
          return d
        },
      ]
      if let s = l.source { e["source"] = s }
      if let n = l.note { e["note"] = n }
      return e
    }
    guard let data = try? JSONSerialization.data(withJSONObject: o, options: [.prettyPrinted, .sortedKeys]) else {
      return "{}"
    }
    return String(decoding: data, as: UTF8.self)
  }
}
