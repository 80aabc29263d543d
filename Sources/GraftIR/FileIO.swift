import Foundation

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, fsync, rename,
/// fsync of the folder.
/// A reader never sees a half-written file and a failed write leaves the old file intact.
/// Throws a one-line `GraftError(.io)` naming the path.
public func writeFileAtomically(_ path: String, _ write: (FileHandle) throws -> Void) throws {
  let url = URL(fileURLWithPath: path)
  let dir = url.deletingLastPathComponent().path
  let tmp = dir + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
  let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
  guard fd >= 0 else {
    throw GraftError(.io, at: Location(file: path), "cannot write: \(String(cString: strerror(errno)))")
  }
  let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
  do {
    try write(handle)
    guard fsync(fd) == 0 else {
      throw GraftError(.io, at: Location(file: path), "cannot write: \(String(cString: strerror(errno)))")
    }
    try handle.close()
  } catch let e as GraftError {
    try? handle.close()
    unlink(tmp)
    throw e
  } catch {
    try? handle.close()
    unlink(tmp)
    throw GraftError(.io, at: Location(file: path), "cannot write: \(error.localizedDescription)")
  }
  guard rename(tmp, path) == 0 else {
    let msg = String(cString: strerror(errno))
    unlink(tmp)
    throw GraftError(.io, at: Location(file: path), "cannot write: \(msg)")
  }
  // Make the rename itself durable (best effort: some file systems refuse fsync on a folder).
  let dfd = open(dir.isEmpty ? "." : dir, O_RDONLY)
  if dfd >= 0 {
    _ = fsync(dfd)
    close(dfd)
  }
}

/// Convenience: atomically writes a byte buffer. Writes with `write(2)` (retrying short
/// writes and EINTR), so a full disk or a file-size limit is reported as the system's own
/// words, e.g. `out.graft: cannot write: No space left on device`.
public func writeFileAtomically(_ path: String, bytes: UnsafeRawBufferPointer) throws {
  try writeFileAtomically(path) { h in
    guard let base = bytes.baseAddress else { return }
    let fd = h.fileDescriptor
    var offset = 0
    while offset < bytes.count {
      let n = write(fd, base + offset, min(bytes.count - offset, 1 << 24))
      if n < 0 {
        if errno == EINTR { continue }
        throw GraftError(.io, at: Location(file: path), "cannot write: \(String(cString: strerror(errno)))")
      }
      offset += n
    }
  }
}
