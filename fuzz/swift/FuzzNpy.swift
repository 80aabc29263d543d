// FuzzNpy.swift — libFuzzer entry for the `.npy` reader.
//
// Contract: Npy.decode either returns a tensor or throws a GraftError; a decoded tensor
// encodes and decodes back to the same dtype, dims and bytes. Anything else (a crash, an ASan
// report, a trap, a round-trip mismatch) is a finding. Built by fuzz/run.sh.
import GraftBackend
import GraftIR

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNpy(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = UnsafeRawBufferPointer(start: data, count: size)
  guard let tensor = try? Npy.decode(bytes, file: "fuzz.npy") else { return 0 }
  let encoded: [UInt8]
  do {
    encoded = try Npy.encode(tensor, file: "fuzz.npy")
  } catch {
    fatalError("a decoded tensor does not encode: \(error)")
  }
  let again: Tensor
  do {
    again = try encoded.withUnsafeBytes { try Npy.decode($0, file: "fuzz.npy") }
  } catch {
    fatalError("an encoded tensor does not decode: \(error)")
  }
  if again.dtype != tensor.dtype || again.dims != tensor.dims {
    fatalError("npy round trip changed \(tensor.dtype) \(tensor.dims) into \(again.dtype) \(again.dims)")
  }
  let same = tensor.storage.bytes.elementsEqual(again.storage.bytes)
  if !same { fatalError("npy round trip changed the data") }
  return 0
}
