use br_parquet::sst::*;
#[test]
fn perf() {
    let mut out = Vec::new();
    let mut w = SstWriter::new(&mut out, WriterOptions::default().with_compression(CompressionType::Lz4));
    let t = std::time::Instant::now();
    for i in 0..500_000u64 {
        let mut k = b"t\x80\0\0\0\0\0\0\x2a_r".to_vec();
        k.extend_from_slice(&i.to_be_bytes());
        w.put(&k, &[(i % 251) as u8; 60]).unwrap();
    }
    w.finish().unwrap();
    eprintln!("write {:?} {} bytes", t.elapsed(), out.len());
    let t = std::time::Instant::now();
    let r = SstReader::open(&out[..]).unwrap();
    let mut it = r.entries();
    let mut n = 0u64; let mut bytes = 0usize;
    while let Some(e) = it.next().unwrap() { n += 1; bytes += e.value.len() + e.user_key.len(); }
    eprintln!("scan {:?} {n} entries {bytes} bytes", t.elapsed());
}
