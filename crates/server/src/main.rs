//! `kreishaus`: see `kreishaus --help`.

/// mimalloc instead of the system allocator: the server allocates many small short-lived
/// objects (request parts, JSON, imported cells), where glibc's allocator spent 15–20 % of a
/// data import's instructions (callgrind, docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    server::cli::main()
}
