import CProtobufC
import GraftIR

/// A structural pre-check of protobuf wire data before protobuf-c unpacks it.
///
/// Contract: walks `bytes` as a message of `descriptor`, descending only into fields the
/// descriptor declares as messages; never allocates per field and never reads outside
/// `bytes`. Throws a one-line `GraftError` naming `file` and the byte offset when a field runs
/// past its enclosing message, a tag or wire type is invalid, or messages nest deeper than
/// `maxNesting` (protobuf-c itself recurses without a bound), or when unpacking would
/// allocate more than `maxUnpackedBytes` (a file of millions of empty sub-messages or packed
/// one-byte varints expands many times over). Cost: one pass over the tags; length-delimited
/// payloads that are not messages are skipped, not read.
struct WireCheck {
  let bytes: UnsafeRawBufferPointer
  let file: String
  let maxNesting: Int
  let maxUnpackedBytes: Int
  /// An upper bound of what protobuf-c will allocate, summed while scanning.
  private var estimate = 0

  init(bytes: UnsafeRawBufferPointer, file: String, maxNesting: Int, maxUnpackedBytes: Int) {
    self.bytes = bytes
    self.file = file
    self.maxNesting = maxNesting
    self.maxUnpackedBytes = maxUnpackedBytes
  }

  mutating func run(_ descriptor: UnsafePointer<ProtobufCMessageDescriptor>) throws {
    try scan(descriptor, from: 0, to: bytes.count, depth: 1)
  }

  private mutating func charge(_ n: Int, at: Int) throws {
    estimate += n
    guard estimate <= maxUnpackedBytes else {
      throw GraftError(.invalid, at: Location(file: file),
                       "decoding would allocate more than \(maxUnpackedBytes) bytes for a \(bytes.count)-byte file (at byte \(at)); refusing")
    }
  }

  /// Bytes of the C type protobuf-c stores for a scalar field type (ProtobufCType order).
  private static func cSize(_ type: UInt32) -> Int {
    switch type {
    case 3, 4, 5, 8, 9, 11: return 8  // int64, sint64, sfixed64, uint64, fixed64, double
    default: return 4
    }
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

  private mutating func scan(_ descriptor: UnsafePointer<ProtobufCMessageDescriptor>, from: Int, to end: Int, depth: Int) throws {
    guard depth <= maxNesting else {
      throw GraftError(.invalid, at: Location(file: file),
                       "messages nest deeper than \(maxNesting) levels at byte \(from); refusing to parse")
    }
    try charge(descriptor.pointee.sizeof_message + 16, at: from)
    var pos = from
    while pos < end {
      let tagAt = pos
      let key = try varint(&pos, end)
      let number = key >> 3
      let wire = key & 7
      guard number > 0, number <= 536_870_911 else {
        throw GraftError(.invalid, at: Location(file: file), "not an ONNX model: invalid protobuf field number \(number) at byte \(tagAt)")
      }
      let field = protobuf_c_message_descriptor_get_field(descriptor, UInt32(number))
      // Unknown fields are kept by protobuf-c (a record plus a copy of the bytes).
      let overhead = field == nil ? 48 : (field?.pointee.label.rawValue == 2 ? 8 : 0)  // 2: REPEATED
      switch wire {
      case 0:
        _ = try varint(&pos, end)
        try charge(overhead, at: tagAt)
      case 1:
        guard end - pos >= 8 else { throw truncated(tagAt) }
        pos += 8
        try charge(overhead, at: tagAt)
      case 5:
        guard end - pos >= 4 else { throw truncated(tagAt) }
        pos += 4
        try charge(overhead, at: tagAt)
      case 2:
        let len = try varint(&pos, end)
        guard len <= UInt64(end - pos) else { throw truncated(tagAt) }
        let payloadEnd = pos + Int(len)
        // ProtobufCType: 14 string, 15 bytes, 16 message (not imported by name).
        if let field, field.pointee.type.rawValue == 16, let sub = field.pointee.descriptor {
          try charge(8, at: tagAt)
          try scan(sub.assumingMemoryBound(to: ProtobufCMessageDescriptor.self), from: pos, to: payloadEnd, depth: depth + 1)
        } else if let field, field.pointee.type.rawValue < 14 {
          // A packed repeated scalar: at most one element per payload byte.
          try charge(Int(len) * Self.cSize(field.pointee.type.rawValue), at: tagAt)
        } else {
          try charge(Int(len) + 24 + overhead, at: tagAt)
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
