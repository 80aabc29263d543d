import Testing
@testable import GraftIR
@Test func placeholder() { #expect(DType.float32.byteSize == 4) }
