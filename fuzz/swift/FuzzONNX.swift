// FuzzONNX.swift — libFuzzer entry for the ONNX import path: protobuf-c decode (after the
// wire pre-scan), IR build, function inlining, checkInvariants and shape inference.
//
// Contract: for any byte string the importer either returns a model whose invariants hold or
// throws a GraftError; shape inference on a model that imported does the same. A crash, an
// ASan report, a trap (force-unwrap, overflow, out-of-range index) or an invariant violation
// after a successful import is a finding. Built by fuzz/run.sh (swiftc -sanitize=fuzzer,address).
import GraftIR
import GraftONNX
import GraftPasses

/// Import limits for fuzzing: the documented defaults, except the allocation guards, which are
/// lowered so that one input cannot take more than a few hundred MiB (the defaults are sized
/// for real models of up to 2 GiB).
private let limits: ImportLimits = {
  var l = ImportLimits()
  l.maxUnpackedExtra = 64 << 20
  l.maxElements = 1 << 24
  l.maxSparseDenseBytes = 64 << 20
  return l
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzONNX(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = UnsafeRawBufferPointer(start: data, count: size)
  let model: Model
  do {
    model = try ONNXImporter.decode(bytes: bytes, path: "fuzz.onnx", limits: limits)
  } catch {
    return 0
  }
  do {
    try model.graph.checkInvariants(file: "fuzz.onnx")
  } catch {
    fatalError("imported model breaks an invariant: \(error)")
  }
  var graph = model.graph
  var context = PassContext(file: "fuzz.onnx", opsets: model.opsetImports)
  _ = try? ShapeInference().run(&graph, &context)
  return 0
}
