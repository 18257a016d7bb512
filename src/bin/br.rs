//! `br backup --parquet-only`: see `br_parquet::cli`.

// jemalloc, as in `tikv-ctl` (see there).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    br_parquet::cli::br_main(std::env::args_os())
}
