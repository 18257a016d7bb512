//! `tikv-ctl br parquet-export`: see `br_parquet::cli`.

// jemalloc, as TiKV itself uses: an export allocates and frees millions of small records (one
// per file and table) between large transient buffers, which fragments glibc's heap.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    br_parquet::cli::tikv_ctl_main(std::env::args_os())
}
