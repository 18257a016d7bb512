//! Compiles `proto/brpb.proto` with protox (pure Rust), so building needs no `protoc`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let descriptors = protox::compile(["brpb.proto"], ["proto"])?;
    prost_build::Config::new()
        // A backup of 100 k tables holds ~250 MB of schema JSON: decoded from a MetaFile leaf
        // read as `Bytes`, each schema's JSON is a slice of the leaf rather than a copy.
        .bytes([".backup.Schema"])
        .compile_fds(descriptors)?;
    Ok(())
}
