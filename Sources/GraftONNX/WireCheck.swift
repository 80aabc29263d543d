import CProtobufC
import GraftIR

/// A structural pre-check of protobuf wire data before protobuf-c unpacks it.
///
/// Contract: walks `bytes` as a message of `descriptor`, descending only into fields the
/// descriptor declares as messages; never allocates per field and never reads outside
/// `bytes`. Throws a one-line `GraftError` naming `file` and the byte offset when a field runs
/// past its enclosing message, a tag or wire type is invalid, or messages nest deeper than
/// `maxNesting` (protobuf-c itself recurses without a bound). Cost: one pass over the tags;
/// length-delimited payloads that are not messages are skipped, not read.
struct WireCheck {
  let bytes: UnsafeRawBufferPointer
  let file: String
  let maxNesting: Int

  func run(_ descriptor: UnsafePointer<ProtobufCMessageDescriptor>) throws {
    try scan(descriptor, from: 0, to: bytes.count, depth: 1)
  }

  private func truncated(_ at: Int) -> GraftError {
    GraftError(.invalid, at: Location(file: file),
               "truncated or corrupt protobuf: a field at byte \(at) runs past its end; not a complete ONNX model")
  }

  private func varint(_ pos: inout Int, _ end: Int) throws -> UInt64 {
    let start = pos
    var result: UInt64 = 0
    var shift: UInt64 = 0
    while true {
      guard pos < end else { throw truncated(start) }
      let b = bytes[pos]
      pos += 1
      if shift < 64 { result |= UInt64(b & 0x7f) << shift }
      if b & 0x80 == 0 { return result }
      shift += 7
      guard shift < 70 else {
        throw GraftError(.invalid, at: Location(file: file), "corrupt protobuf: varint at byte \(start) is too long; not an ONNX model")
      }
    }
  }

  private func scan(_ descriptor: UnsafePointer<ProtobufCMessageDescriptor>, from: Int, to end: Int, depth: Int) throws {
    guard depth <= maxNesting else {
      throw GraftError(.invalid, at: Location(file: file),
                       "messages nest deeper than \(maxNesting) levels at byte \(from); refusing to parse")
    }
    var pos = from
    while pos < end {
      let tagAt = pos
      let key = try varint(&pos, end)
      let number = key >> 3
      let wire = key & 7
      guard number > 0, number <= 536_870_911 else {
        throw GraftError(.invalid, at: Location(file: file), "not an ONNX model: invalid protobuf field number \(number) at byte \(tagAt)")
      }
      switch wire {
      case 0:
        _ = try varint(&pos, end)
      case 1:
        guard end - pos >= 8 else { throw truncated(tagAt) }
        pos += 8
      case 5:
        guard end - pos >= 4 else { throw truncated(tagAt) }
        pos += 4
      case 2:
        let len = try varint(&pos, end)
        guard len <= UInt64(end - pos) else { throw truncated(tagAt) }
        let payloadEnd = pos + Int(len)
        if let field = protobuf_c_message_descriptor_get_field(descriptor, UInt32(number)),
           field.pointee.type.rawValue == 16,  // PROTOBUF_C_TYPE_MESSAGE (not imported by name)
           let sub = field.pointee.descriptor {
          try scan(sub.assumingMemoryBound(to: ProtobufCMessageDescriptor.self), from: pos, to: payloadEnd, depth: depth + 1)
        }
        pos = payloadEnd
      default:
        // Groups (3, 4) are not used by ONNX; 6 and 7 are invalid.
        throw GraftError(.invalid, at: Location(file: file),
                         "not an ONNX model: protobuf wire type \(wire) at byte \(tagAt) is not valid here")
      }
    }
  }
}
