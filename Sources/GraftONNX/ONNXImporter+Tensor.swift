import COnnxProto
import CProtobufC
import Foundation
import GraftIR

/// TensorProto → `Tensor`: raw_data (adopted, not copied), typed fields (converted to the raw
/// little-endian layout), external data files and sparse tensors (densified).
extension ModelReader {
  /// `label` names the tensor in messages (its name, or the attribute holding it).
  func tensor(_ tp: UnsafeMutablePointer<Onnx__TensorProto>, name label: String) throws -> Tensor {
    let loc = Location(file: file, tensor: label.isEmpty ? "<unnamed>" : label)
    let t = tp.pointee
    let code = t.has_data_type != 0 ? t.data_type : 0
    guard code != 0 else { throw GraftError(.invalid, at: loc, "tensor has no data type") }
    guard let dtype = DType(rawValue: code) else {
      throw GraftError(.unsupported, at: loc, "data type \(code) is not supported")
    }
    let dims = try checkedDims(array(t.n_dims, t.dims), at: loc)
    let count = elementCount(dims)
    if t.segment != nil {
      throw GraftError(.unsupported, at: loc, "segmented tensors are not supported")
    }
    if dtype == .string {
      guard t.n_string_data == count else {
        throw GraftError(.invalid, at: loc, "tensor has \(t.n_string_data) strings; shape \(Shape(dims).text) needs \(count)")
      }
      let s = (0..<t.n_string_data).map { bytesOf(t.string_data[$0]) }
      return Tensor(dtype: .string, dims: dims, storage: TensorStorage(copying: UnsafeRawBufferPointer(start: nil, count: 0)), strings: s)
    }
    guard let need = dtype.storageBytes(count: count) else {
      throw GraftError(.unsupported, at: loc, "data type \(dtype) is not supported")
    }
    let tooShort = { (have: Int) -> GraftError in
      GraftError(.invalid, at: loc, "tensor data has \(have) bytes; shape \(Shape(dims).text) of \(dtype) needs \(need)")
    }
    if t.has_data_location != 0 && t.data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL {
      return Tensor(dtype: dtype, dims: dims, storage: try externalData(tp, need: need, at: loc, dims: dims, dtype: dtype))
    }
    if t.has_raw_data != 0 {
      let len = t.raw_data.len
      guard len == need else { throw tooShort(len) }
      guard len > 0, let data = t.raw_data.data else {
        return Tensor(dtype: dtype, dims: dims, storage: TensorStorage(copying: UnsafeRawBufferPointer(start: nil, count: 0)))
      }
      // Adopt protobuf-c's malloc'd buffer: free_unpacked skips a NULL data pointer.
      tp.pointee.raw_data.data = nil
      tp.pointee.raw_data.len = 0
      tp.pointee.has_raw_data = 0
      let storage = TensorStorage(owning: UnsafeMutableRawPointer(data), count: len, release: { free($0) })
      return Tensor(dtype: dtype, dims: dims, storage: storage)
    }
    return Tensor(dtype: dtype, dims: dims, storage: try typedData(t, dtype: dtype, count: count, need: need, at: loc, dims: dims))
  }

  /// Dims must be non-negative, each within `maxDimension`, and their product within
  /// `maxElements` (checked without overflow).
  func checkedDims(_ raw: [Int64], at loc: Location) throws -> [Int] {
    var total = 1
    var dims: [Int] = []
    dims.reserveCapacity(raw.count)
    for d in raw {
      guard d >= 0 else { throw GraftError(.invalid, at: loc, "dim \(d) is negative") }
      guard d <= limits.maxDimension else {
        throw GraftError(.invalid, at: loc, "dim \(d) is larger than the limit \(limits.maxDimension)")
      }
      dims.append(Int(d))
    }
    for d in dims {
      let (p, overflow) = total.multipliedReportingOverflow(by: d)
      guard !overflow, p <= limits.maxElements else {
        throw GraftError(.invalid, at: loc, "shape \(Shape(dims).text) has more elements than the limit \(limits.maxElements)")
      }
      total = p
    }
    return dims
  }

  /// Converts the typed value field ONNX prescribes for `dtype` to raw little-endian bytes.
  private func typedData(_ t: Onnx__TensorProto, dtype: DType, count: Int, need: Int, at loc: Location,
                         dims: [Int]) throws -> TensorStorage {
    func mismatch(_ have: Int, _ field: String, _ want: Int) -> GraftError {
      GraftError(.invalid, at: loc, "tensor has \(have) values in \(field); shape \(Shape(dims).text) of \(dtype) needs \(want)")
    }
    switch dtype {
    case .float32, .complex64:
      let want = dtype == .float32 ? count : 2 * count
      guard t.n_float_data == want else { throw mismatch(t.n_float_data, "float_data", want) }
      return TensorStorage(copying: UnsafeRawBufferPointer(start: t.float_data, count: need))
    case .float64, .complex128:
      let want = dtype == .float64 ? count : 2 * count
      guard t.n_double_data == want else { throw mismatch(t.n_double_data, "double_data", want) }
      return TensorStorage(copying: UnsafeRawBufferPointer(start: t.double_data, count: need))
    case .int64:
      guard t.n_int64_data == count else { throw mismatch(t.n_int64_data, "int64_data", count) }
      return TensorStorage(copying: UnsafeRawBufferPointer(start: t.int64_data, count: need))
    case .uint64:
      guard t.n_uint64_data == count else { throw mismatch(t.n_uint64_data, "uint64_data", count) }
      return TensorStorage(copying: UnsafeRawBufferPointer(start: t.uint64_data, count: need))
    case .uint32:
      guard t.n_uint64_data == count else { throw mismatch(t.n_uint64_data, "uint64_data", count) }
      let src = t.uint64_data
      return TensorStorage(count: need) { buf in
        for i in 0..<count { buf.storeBytes(of: UInt32(truncatingIfNeeded: src?[i] ?? 0), toByteOffset: i * 4, as: UInt32.self) }
      }
    case .int32:
      guard t.n_int32_data == count else { throw mismatch(t.n_int32_data, "int32_data", count) }
      return TensorStorage(copying: UnsafeRawBufferPointer(start: t.int32_data, count: need))
    case .int16, .uint16, .float16, .bfloat16:
      guard t.n_int32_data == count else { throw mismatch(t.n_int32_data, "int32_data", count) }
      let src = t.int32_data
      return TensorStorage(count: need) { buf in
        for i in 0..<count { buf.storeBytes(of: UInt16(truncatingIfNeeded: src?[i] ?? 0), toByteOffset: i * 2, as: UInt16.self) }
      }
    case .int8, .uint8, .bool, .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz, .int4, .uint4:
      // One element per entry; 4-bit kinds hold one packed byte (two elements) per entry.
      guard t.n_int32_data == need else { throw mismatch(t.n_int32_data, "int32_data", need) }
      let src = t.int32_data
      return TensorStorage(count: need) { buf in
        for i in 0..<need { buf[i] = UInt8(truncatingIfNeeded: src?[i] ?? 0) }
      }
    case .string, .undefined:
      throw GraftError(.unsupported, at: loc, "data type \(dtype) is not supported")
    }
  }

  /// Reads external data: `location` relative to the model's folder (absolute paths and
  /// paths leaving the folder, also through symbolic links, are refused), `offset` and
  /// `length` in bytes. The range must lie inside the file and match the tensor's size.
  private func externalData(_ tp: UnsafeMutablePointer<Onnx__TensorProto>, need: Int, at loc: Location,
                            dims: [Int], dtype: DType) throws -> TensorStorage {
    var entries: [String: String] = [:]
    for e in list(tp.pointee.n_external_data, tp.pointee.external_data) { entries[str(e.pointee.key)] = str(e.pointee.value) }
    guard let location = entries["location"], !location.isEmpty else {
      throw GraftError(.invalid, at: loc, "external data has no 'location' entry")
    }
    guard let folder else {
      throw GraftError(.invalid, at: loc, "external data '\(location)' needs the model's file path (model was decoded from memory)")
    }
    guard !location.hasPrefix("/") else {
      throw GraftError(.invalid, at: loc, "external data location '\(location)' is absolute; it must be relative to the model's folder")
    }
    var depth = 0
    for part in location.split(separator: "/", omittingEmptySubsequences: true) {
      if part == ".." { depth -= 1 } else if part != "." { depth += 1 }
      guard depth >= 0 else {
        throw GraftError(.invalid, at: loc, "external data location '\(location)' leaves the model's folder")
      }
    }
    func number(_ key: String) throws -> Int? {
      guard let s = entries[key] else { return nil }
      guard let v = Int(s), v >= 0 else {
        throw GraftError(.invalid, at: loc, "external data \(key) '\(s)' is not a non-negative integer")
      }
      return v
    }
    let offset = try number("offset") ?? 0
    let length = try number("length")
    let path = folder + "/" + location
    guard let realFolder = realpath(folder, nil) else {
      throw GraftError(.io, at: loc, "cannot resolve the model's folder '\(folder)'")
    }
    defer { free(realFolder) }
    guard let realFile = realpath(path, nil) else {
      throw GraftError(.io, at: loc, "external data file '\(location)' not found")
    }
    defer { free(realFile) }
    let root = String(cString: realFolder)
    let resolved = String(cString: realFile)
    guard resolved.hasPrefix(root == "/" ? "/" : root + "/") else {
      throw GraftError(.invalid, at: loc, "external data location '\(location)' leaves the model's folder (through a symbolic link)")
    }
    let fd = open(resolved, O_RDONLY)
    guard fd >= 0 else { throw GraftError(.io, at: loc, "cannot open external data file '\(location)': \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
      throw GraftError(.io, at: loc, "external data file '\(location)' is not a regular file")
    }
    let size = Int(st.st_size)
    let len = length ?? max(0, size - offset)
    guard offset <= size, len <= size - offset else {
      throw GraftError(.invalid, at: loc, "external data range \(offset)+\(len) is past the end of '\(location)' (\(size) bytes)")
    }
    guard len == need else {
      throw GraftError(.invalid, at: loc, "tensor data has \(len) bytes; shape \(Shape(dims).text) of \(dtype) needs \(need)")
    }
    return try TensorStorage(count: need) { buf in
      guard let base = buf.baseAddress else { return }
      var done = 0
      while done < need {
        let r = pread(fd, base + done, need - done, off_t(offset + done))
        if r < 0 && errno == EINTR { continue }
        guard r > 0 else {
          throw GraftError(.io, at: loc, "cannot read external data file '\(location)'")
        }
        done += r
      }
    }
  }

  /// A sparse tensor (values [NNZ], indices [NNZ] linear or [NNZ, rank]) as a dense tensor.
  func sparseTensor(_ sp: UnsafeMutablePointer<Onnx__SparseTensorProto>, name: String) throws -> Tensor {
    let loc = Location(file: file, tensor: name.isEmpty ? "<unnamed>" : name)
    guard let vp = sp.pointee.values, let ip = sp.pointee.indices else {
      throw GraftError(.invalid, at: loc, "sparse tensor needs both values and indices")
    }
    let dims = try checkedDims(array(sp.pointee.n_dims, sp.pointee.dims), at: loc)
    let values = try tensor(vp, name: name)
    let indices = try tensor(ip, name: name)
    guard let size = values.dtype.byteSize, values.dtype != .string else {
      throw GraftError(.unsupported, at: loc, "sparse tensors of \(values.dtype) are not supported")
    }
    guard indices.dtype == .int64, let idx = indices.integers() else {
      throw GraftError(.invalid, at: loc, "sparse tensor indices must be int64")
    }
    let nnz = values.count
    let total = elementCount(dims)
    guard total.multipliedReportingOverflow(by: size).partialValue <= limits.maxSparseDenseBytes, total <= Int.max / max(size, 1) else {
      throw GraftError(.invalid, at: loc, "sparse tensor of shape \(Shape(dims).text) would densify past the limit of \(limits.maxSparseDenseBytes) bytes")
    }
    let rank = dims.count
    let linear: [Int]
    if indices.dims == [nnz] {
      linear = idx.map { Int($0) }
    } else if indices.dims == [nnz, rank] {
      linear = (0..<nnz).map { k in
        var off = 0
        for d in 0..<rank {
          let i = Int(idx[k * rank + d])
          off = (i < 0 || i >= dims[d]) ? -1 : (off < 0 ? -1 : off * dims[d] + i)
        }
        return off
      }
    } else {
      throw GraftError(.invalid, at: loc, "sparse tensor indices have shape \(Shape(indices.dims).text); need \(nnz) or \(nnz)x\(rank)")
    }
    for i in linear where i < 0 || i >= total {
      throw GraftError(.invalid, at: loc, "sparse tensor index \(i) is outside shape \(Shape(dims).text)")
    }
    let storage = TensorStorage(count: total * size) { buf in
      guard let base = buf.baseAddress else { return }
      for (k, i) in linear.enumerated() {
        base.advanced(by: i * size).copyMemory(from: values.storage.pointer + k * size, byteCount: size)
      }
    }
    return Tensor(dtype: values.dtype, dims: dims, storage: storage)
  }
}
