//! Block compression (RocksDB `include/rocksdb/compression_type.h`, `util/compression.h`).
//!
//! Spec: <https://github.com/facebook/rocksdb/wiki/Rocksdb-BlockBasedTable-Format> and
//! `docs/formats.md` §11.
//!
//! The trailer's type byte says how the block contents are stored. From format_version 2
//! (every version this module reads), Zlib, BZip2, LZ4, LZ4HC and ZSTD payloads start with the
//! uncompressed size:
//!
//! ```text
//! Snappy:                      [raw snappy (own length header)]
//! Zlib/LZ4/LZ4HC/ZSTD/BZip2:   [uncompressed size varint32][stream]
//!   Zlib  = raw deflate (no zlib header), RocksDB inflates with a 16 KiB window
//!   LZ4   = LZ4 block format (not the frame format), LZ4HC likewise
//!   ZSTD  = one zstd frame, data blocks possibly against the `rocksdb.compression_dict` block
//! ```
//!
//! Performance: a `Decompressor` keeps every codec context (and the zstd dictionary loaded once)
//! for the life of a scan, and decompresses into a caller-owned buffer that is reused block after
//! block, so a scan allocates only when a block is larger than any before it.

use std::fmt;
use std::io::Write;

use super::coding::{put_varint32, read_varint64};
use super::{BlockRef, SstError};

/// The most bytes one block may declare or decompress to. Real blocks are KiBs to a few MiBs; a
/// larger size is treated as corruption instead of being allocated.
pub const MAX_UNCOMPRESSED_BLOCK_LEN: usize = 256 << 20;

/// RocksDB inflates Zlib blocks with windowBits -14; the pure-Rust deflate always uses a 32 KiB
/// window, so the writer only deflates inputs no longer than this (no back reference can reach
/// further than the input is long).
const ZLIB_MAX_WINDOW: usize = 16 << 10;

/// Level the writer uses for ZSTD (RocksDB's default level 32767 means the library default, 3).
const ZSTD_LEVEL: i32 = 3;

/// How a block's contents are stored (the trailer's first byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum CompressionType {
    /// `kNoCompression` (0).
    #[default]
    None,
    /// `kSnappyCompression` (1).
    Snappy,
    /// `kZlibCompression` (2): raw deflate.
    Zlib,
    /// `kBZip2Compression` (3): not supported by the reader.
    Bzip2,
    /// `kLZ4Compression` (4): LZ4 block format.
    Lz4,
    /// `kLZ4HCCompression` (5): LZ4 block format (high-compression encoder).
    Lz4hc,
    /// `kXpressCompression` (6): Windows only; not supported by the reader.
    Xpress,
    /// `kZSTD` (7).
    Zstd,
    /// `kZSTDNotFinalCompression` (0x40): a zstd frame, from RocksDB <= 10 (TiKV's fork too).
    ZstdNotFinal,
}

impl CompressionType {
    /// Parses a trailer byte; `None` for codes RocksDB does not define as built in
    /// (e.g. 0x80..=0xFE, custom compression managers of format_version 7).
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => Self::None,
            1 => Self::Snappy,
            2 => Self::Zlib,
            3 => Self::Bzip2,
            4 => Self::Lz4,
            5 => Self::Lz4hc,
            6 => Self::Xpress,
            7 => Self::Zstd,
            0x40 => Self::ZstdNotFinal,
            _ => return None,
        })
    }

    /// The trailer byte.
    pub fn code(self) -> u8 {
        match self {
            Self::None => 0,
            Self::Snappy => 1,
            Self::Zlib => 2,
            Self::Bzip2 => 3,
            Self::Lz4 => 4,
            Self::Lz4hc => 5,
            Self::Xpress => 6,
            Self::Zstd => 7,
            Self::ZstdNotFinal => 0x40,
        }
    }

    /// RocksDB's name (`CompressionTypeToString`), as in the `rocksdb.compression` property.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "NoCompression",
            Self::Snappy => "Snappy",
            Self::Zlib => "Zlib",
            Self::Bzip2 => "BZip2",
            Self::Lz4 => "LZ4",
            Self::Lz4hc => "LZ4HC",
            Self::Xpress => "Xpress",
            Self::Zstd => "ZSTD",
            Self::ZstdNotFinal => "ZSTDNotFinal",
        }
    }

    /// Whether the payload starts with a varint32 uncompressed size (format_version >= 2).
    fn has_size_prefix(self) -> bool {
        matches!(
            self,
            Self::Zlib | Self::Bzip2 | Self::Lz4 | Self::Lz4hc | Self::Zstd | Self::ZstdNotFinal
        )
    }
}

impl fmt::Display for CompressionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Reusable decompression state for one scan.
pub(crate) struct Decompressor<'d> {
    /// The file's compression dictionary (empty if none); used for data blocks only, as RocksDB
    /// compresses index and meta blocks without it.
    dict: &'d [u8],
    snappy: snap::raw::Decoder,
    zlib: Option<flate2::Decompress>,
    zstd: Option<zstd::bulk::Decompressor<'static>>,
    zstd_dict: Option<zstd::bulk::Decompressor<'static>>,
}

impl<'d> Decompressor<'d> {
    /// A decompressor for a file whose dictionary block (possibly empty) is `dict`.
    pub(crate) fn new(dict: &'d [u8]) -> Self {
        Self {
            dict,
            snappy: snap::raw::Decoder::new(),
            zlib: None,
            zstd: None,
            zstd_dict: None,
        }
    }

    /// Decompresses `input`, stored as `code`, into `out` (replacing its contents). `with_dict`
    /// is set for data blocks. The result must have exactly the declared size.
    pub(crate) fn decompress(
        &mut self,
        code: u8,
        input: &[u8],
        out: &mut Vec<u8>,
        with_dict: bool,
        block: BlockRef,
    ) -> Result<(), SstError> {
        let kind = CompressionType::from_code(code).ok_or(SstError::UnsupportedCompression {
            block,
            code,
            name: "unknown",
        })?;
        if matches!(kind, CompressionType::Bzip2 | CompressionType::Xpress) {
            return Err(SstError::UnsupportedCompression {
                block,
                code,
                name: kind.name(),
            });
        }
        let dict = if with_dict { self.dict } else { &[] };
        let mut payload = input;
        let declared = if kind.has_size_prefix() {
            let size = read_varint64(&mut payload).ok_or_else(|| {
                SstError::corrupt(block, format!("{kind}: truncated uncompressed-size prefix"))
            })?;
            Some(check_size(size, kind, block)?)
        } else {
            None
        };
        let codec_err = |e: &dyn fmt::Display| {
            SstError::corrupt(block, format!("{kind} decompression failed: {e}"))
        };
        let written = match kind {
            CompressionType::None => {
                out.clear();
                out.extend_from_slice(input);
                return Ok(());
            }
            CompressionType::Snappy => {
                let size = snap::raw::decompress_len(payload).map_err(|e| codec_err(&e))?;
                let size = check_size(size as u64, kind, block)?;
                // `resize` only zero-fills growth; the decoder overwrites all `size` bytes.
                out.resize(size, 0);
                let written = self
                    .snappy
                    .decompress(payload, out)
                    .map_err(|e| codec_err(&e))?;
                if written != size {
                    return Err(size_mismatch(block, kind, written, size));
                }
                return Ok(());
            }
            CompressionType::Lz4 | CompressionType::Lz4hc => {
                let size = declared.unwrap_or(0);
                out.resize(size, 0);
                if dict.is_empty() {
                    // The LZ4 library RocksDB itself uses: its decoder is faster than lz4_flex's
                    // on these blocks (docs/performance.md, "Issue 13, tenth session"). `size`
                    // is at most MAX_UNCOMPRESSED_BLOCK_LEN, so it fits the library's `int`.
                    let size = i32::try_from(size).map_err(|e| codec_err(&e))?;
                    lz4::block::decompress_to_buffer(payload, Some(size), out)
                        .map_err(|e| codec_err(&e))?
                } else {
                    lz4_flex::block::decompress_into_with_dict(payload, out, dict)
                        .map_err(|e| codec_err(&e))?
                }
            }
            CompressionType::Zlib => {
                if !dict.is_empty() {
                    return Err(SstError::Unsupported {
                        block,
                        detail: "Zlib with a compression dictionary".to_owned(),
                    });
                }
                let size = declared.unwrap_or(0);
                let zlib = self
                    .zlib
                    .get_or_insert_with(|| flate2::Decompress::new(false));
                zlib.reset(false);
                out.clear();
                out.reserve_exact(size);
                let status = zlib
                    .decompress_vec(payload, out, flate2::FlushDecompress::Finish)
                    .map_err(|e| codec_err(&e))?;
                if status != flate2::Status::StreamEnd {
                    return Err(SstError::corrupt(
                        block,
                        format!("Zlib stream does not end within the declared {size} bytes"),
                    ));
                }
                out.len()
            }
            CompressionType::Zstd | CompressionType::ZstdNotFinal => {
                let size = declared.unwrap_or(0);
                let slot = if dict.is_empty() {
                    &mut self.zstd
                } else {
                    &mut self.zstd_dict
                };
                let zstd = match slot {
                    Some(zstd) => zstd,
                    None => slot.insert(
                        zstd::bulk::Decompressor::with_dictionary(dict)
                            .map_err(|e| codec_err(&e))?,
                    ),
                };
                out.clear();
                out.reserve_exact(size);
                zstd.decompress_to_buffer(payload, out)
                    .map_err(|e| codec_err(&e))?
            }
            // Rejected above.
            CompressionType::Bzip2 | CompressionType::Xpress => 0,
        };
        let size = declared.unwrap_or(0);
        if written != size {
            return Err(size_mismatch(block, kind, written, size));
        }
        out.truncate(written);
        Ok(())
    }
}

fn check_size(size: u64, kind: CompressionType, block: BlockRef) -> Result<usize, SstError> {
    usize::try_from(size)
        .ok()
        .filter(|&s| s <= MAX_UNCOMPRESSED_BLOCK_LEN)
        .ok_or_else(|| {
            SstError::corrupt(
                block,
                format!(
                    "{kind} block declares {size} uncompressed bytes, over the \
                     {MAX_UNCOMPRESSED_BLOCK_LEN}-byte limit"
                ),
            )
        })
}

fn size_mismatch(block: BlockRef, kind: CompressionType, written: usize, size: usize) -> SstError {
    SstError::corrupt(
        block,
        format!("{kind} block decompressed to {written} bytes, but declares {size}"),
    )
}

/// Reusable compression state for [`super::SstWriter`].
pub(crate) struct Compressor {
    snappy: snap::raw::Encoder,
    zstd: Option<zstd::bulk::Compressor<'static>>,
}

impl Compressor {
    pub(crate) fn new() -> Self {
        Self {
            snappy: snap::raw::Encoder::new(),
            zstd: None,
        }
    }

    /// Compresses `input` as `kind` into `out` (replacing it), with the format_version >= 2 size
    /// prefix. Returns `false`, leaving `out` unspecified, when the block should be stored
    /// uncompressed instead: RocksDB's rule is that compression must save at least 1/8
    /// (`GoodCompressionRatio`); Zlib inputs over 16 KiB are never deflated (see
    /// `ZLIB_MAX_WINDOW`).
    pub(crate) fn compress(
        &mut self,
        kind: CompressionType,
        input: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<bool, String> {
        out.clear();
        if kind.has_size_prefix() {
            let len = u32::try_from(input.len()).map_err(|_| "block over 4 GiB".to_owned())?;
            put_varint32(out, len);
        }
        match kind {
            CompressionType::None => return Ok(false),
            CompressionType::Snappy => {
                let compressed = self
                    .snappy
                    .compress_vec(input)
                    .map_err(|e| format!("snappy: {e}"))?;
                out.extend_from_slice(&compressed);
            }
            CompressionType::Lz4 | CompressionType::Lz4hc => {
                let start = out.len();
                out.resize(
                    start + lz4_flex::block::get_maximum_output_size(input.len()),
                    0,
                );
                let dst = out.get_mut(start..).ok_or("lz4: buffer")?;
                let n =
                    lz4_flex::block::compress_into(input, dst).map_err(|e| format!("lz4: {e}"))?;
                out.truncate(start + n);
            }
            CompressionType::Zlib => {
                if input.len() > ZLIB_MAX_WINDOW {
                    return Ok(false);
                }
                let mut encoder = flate2::write::DeflateEncoder::new(
                    std::mem::take(out),
                    flate2::Compression::default(),
                );
                encoder.write_all(input).map_err(|e| format!("zlib: {e}"))?;
                *out = encoder.finish().map_err(|e| format!("zlib: {e}"))?;
            }
            CompressionType::Zstd => {
                let zstd = match &mut self.zstd {
                    Some(zstd) => zstd,
                    None => self.zstd.insert(
                        zstd::bulk::Compressor::new(ZSTD_LEVEL)
                            .map_err(|e| format!("zstd: {e}"))?,
                    ),
                };
                let compressed = zstd.compress(input).map_err(|e| format!("zstd: {e}"))?;
                out.extend_from_slice(&compressed);
            }
            CompressionType::Bzip2 | CompressionType::Xpress | CompressionType::ZstdNotFinal => {
                return Err(format!("the writer does not support {kind} compression"));
            }
        }
        Ok(out.len() < input.len() - input.len() / 8)
    }
}

#[cfg(test)]
// Tests may index and unwrap: a panic is the failure report there.
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::sst::BlockKind;

    const AT: BlockRef = BlockRef {
        kind: BlockKind::Data,
        offset: 4096,
        size: 100,
    };

    fn sample() -> Vec<u8> {
        (0..5000u32)
            .flat_map(|i| format!("key{:05}value{}", i / 3, i % 7).into_bytes())
            .take(12_000)
            .collect()
    }

    #[test]
    fn codes_and_names() {
        for code in [0u8, 1, 2, 3, 4, 5, 6, 7, 0x40] {
            assert_eq!(CompressionType::from_code(code).unwrap().code(), code);
        }
        assert_eq!(CompressionType::from_code(8), None);
        assert_eq!(CompressionType::from_code(0x80), None);
        assert_eq!(CompressionType::Lz4.to_string(), "LZ4");
        assert_eq!(CompressionType::Zstd.to_string(), "ZSTD");
        assert_eq!(CompressionType::None.to_string(), "NoCompression");
    }

    #[test]
    fn round_trip_every_writer_codec() {
        let input = sample();
        let mut compressor = Compressor::new();
        let mut decompressor = Decompressor::new(&[]);
        for kind in [
            CompressionType::Snappy,
            CompressionType::Zlib,
            CompressionType::Lz4,
            CompressionType::Lz4hc,
            CompressionType::Zstd,
        ] {
            let mut compressed = Vec::new();
            assert!(
                compressor.compress(kind, &input, &mut compressed).unwrap(),
                "{kind}"
            );
            let mut out = vec![9; 3];
            decompressor
                .decompress(kind.code(), &compressed, &mut out, false, AT)
                .unwrap();
            assert_eq!(out, input, "{kind}");
        }
    }

    #[test]
    fn size_prefix_is_a_varint() {
        let mut out = Vec::new();
        Compressor::new()
            .compress(CompressionType::Lz4, &[b'a'; 300], &mut out)
            .unwrap();
        assert_eq!(&out[..2], [0xac, 0x02]);
    }

    #[test]
    fn incompressible_is_stored_raw() {
        // xorshift64: no repeats for a compressor to find.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let input: Vec<u8> = (0..4096)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        let mut out = Vec::new();
        assert!(!Compressor::new()
            .compress(CompressionType::Snappy, &input, &mut out)
            .unwrap());
        // Zlib over 16 KiB is stored raw because of RocksDB's 16 KiB inflate window.
        assert!(!Compressor::new()
            .compress(CompressionType::Zlib, &[0; 20_000], &mut out)
            .unwrap());
    }

    #[test]
    fn zstd_with_dictionary_for_data_blocks_only() {
        let dict = b"the quick brown fox jumps over the lazy dog ".repeat(20);
        let input = b"the quick brown fox jumps over the lazy dog again".to_vec();
        let mut framed = Vec::new();
        put_varint32(&mut framed, input.len() as u32);
        framed.extend(
            zstd::bulk::Compressor::with_dictionary(3, &dict)
                .unwrap()
                .compress(&input)
                .unwrap(),
        );
        let mut decompressor = Decompressor::new(&dict);
        let mut out = Vec::new();
        decompressor
            .decompress(7, &framed, &mut out, true, AT)
            .unwrap();
        assert_eq!(out, input);
        // The same frame as a non-data block: no dictionary, so it fails cleanly.
        assert!(decompressor
            .decompress(7, &framed, &mut out, false, AT)
            .is_err());
    }

    #[test]
    fn errors_name_block_and_codec() {
        let mut d = Decompressor::new(&[]);
        let mut out = Vec::new();
        let err = d.decompress(3, b"BZh9", &mut out, false, AT).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unsupported compression type 3 (BZip2) in data block at offset 4096 (size 100)"
        );
        let err = d.decompress(0x81, b"x", &mut out, false, AT).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unsupported compression type 129 (unknown) in data block at offset 4096 (size 100)"
        );
        // Declared 1 GiB: refused before allocating.
        let mut huge = Vec::new();
        put_varint32(&mut huge, 1 << 30);
        huge.push(0);
        let err = d.decompress(4, &huge, &mut out, false, AT).unwrap_err();
        assert_eq!(
            err.to_string(),
            "data block at offset 4096 (size 100): LZ4 block declares 1073741824 uncompressed \
             bytes, over the 268435456-byte limit"
        );
        let err = d.decompress(7, &[], &mut out, false, AT).unwrap_err();
        assert_eq!(
            err.to_string(),
            "data block at offset 4096 (size 100): ZSTD: truncated uncompressed-size prefix"
        );
        // A valid stream whose prefix lies about the size.
        let mut c = Compressor::new();
        let mut framed = Vec::new();
        c.compress(CompressionType::Lz4, &[7; 1000], &mut framed)
            .unwrap();
        framed[..2].copy_from_slice(&[0xe7, 0x07]); // 999
        let err = d.decompress(4, &framed, &mut out, false, AT).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("data block at offset 4096 (size 100): LZ4 decompression failed"),
            "{err}"
        );
    }

    #[test]
    fn truncated_streams_error_without_panic() {
        let input = sample();
        let mut c = Compressor::new();
        let mut d = Decompressor::new(&[]);
        for kind in [
            CompressionType::Snappy,
            CompressionType::Zlib,
            CompressionType::Lz4,
            CompressionType::Zstd,
        ] {
            let mut compressed = Vec::new();
            c.compress(kind, &input[..4000], &mut compressed).unwrap();
            for cut in (0..compressed.len()).step_by(37) {
                let mut out = Vec::new();
                assert!(
                    d.decompress(kind.code(), &compressed[..cut], &mut out, false, AT)
                        .is_err(),
                    "{kind} cut at {cut}"
                );
            }
        }
    }
}
