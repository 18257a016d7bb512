//! Random-access byte sources an SST is read from.
//!
//! The reader issues one positioned read per block (contents plus the 5-byte trailer), and 1 for
//! the footer, so a source only needs `pread`-style access; it never needs the whole file.

use std::io;
use std::sync::Arc;

/// Random-access byte source an SST is read from. Blocks are read one at a time; the reader never
/// holds the whole file.
pub trait BlockSource: Send + Sync {
    /// Total length in bytes.
    fn len(&self) -> u64;

    /// Fills `buf` with the bytes at `offset..offset + buf.len()`; an error if any are missing.
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()>;

    /// Whether the source has no bytes.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Copies `bytes[offset..offset + buf.len()]` into `buf`, or reports `UnexpectedEof`.
fn read_from_slice(bytes: &[u8], offset: u64, buf: &mut [u8]) -> io::Result<()> {
    let src = usize::try_from(offset)
        .ok()
        .and_then(|start| bytes.get(start..start.checked_add(buf.len())?))
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "read of {} bytes at offset {offset} is past the end ({} bytes)",
                    buf.len(),
                    bytes.len()
                ),
            )
        })?;
    buf.copy_from_slice(src);
    Ok(())
}

/// Lets `&[u8]` be a source through the blanket `&T` impl.
impl BlockSource for [u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        read_from_slice(self, offset, buf)
    }
}

impl BlockSource for Vec<u8> {
    fn len(&self) -> u64 {
        Vec::len(self) as u64
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        read_from_slice(self, offset, buf)
    }
}

impl BlockSource for bytes::Bytes {
    fn len(&self) -> u64 {
        bytes::Bytes::len(self) as u64
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        read_from_slice(self, offset, buf)
    }
}

/// A file read with `pread`, so one `File` can serve concurrent readers. The length is queried
/// once per call to `len`, which the reader makes only in `SstReader::open`.
#[cfg(unix)]
impl BlockSource for std::fs::File {
    fn len(&self) -> u64 {
        // A failed stat reads as an empty file, which `open` reports as too short.
        self.metadata().map(|m| m.len()).unwrap_or(0)
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(self, buf, offset)
    }
}

impl<T: BlockSource + ?Sized> BlockSource for &T {
    fn len(&self) -> u64 {
        (**self).len()
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        (**self).read_exact_at(offset, buf)
    }
}

impl<T: BlockSource + ?Sized> BlockSource for Arc<T> {
    fn len(&self) -> u64 {
        (**self).len()
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        (**self).read_exact_at(offset, buf)
    }
}

impl<T: BlockSource + ?Sized> BlockSource for Box<T> {
    fn len(&self) -> u64 {
        (**self).len()
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        (**self).read_exact_at(offset, buf)
    }
}

#[cfg(test)]
// Tests may index and unwrap: a panic is the failure report there.
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn check(source: &dyn BlockSource) {
        assert_eq!(source.len(), 5);
        let mut buf = [0u8; 2];
        source.read_exact_at(3, &mut buf).unwrap();
        assert_eq!(buf, [4, 5]);
        let err = source.read_exact_at(4, &mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert!(source.read_exact_at(u64::MAX, &mut buf).is_err());
    }

    #[test]
    fn in_memory_sources() {
        let data = vec![1u8, 2, 3, 4, 5];
        check(&data);
        check(&&data[..]);
        check(&bytes::Bytes::from(data.clone()));
        check(&Arc::new(data.clone()));
        check(&&data);
    }

    #[test]
    fn file_source() {
        use std::io::Write;
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&[1, 2, 3, 4, 5]).unwrap();
        check(&file);
    }
}
