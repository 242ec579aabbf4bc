//! `bench-sse BASE_URL COOKIE N`: opens `N` live streams (Server-Sent Events) of the session in
//! `COOKIE` and holds them open until its standard input closes, for the bench to load and
//! measure the server meanwhile. Prints `open N` once every stream answered.

use std::io::Read as _;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = || anyhow::anyhow!("usage: bench-sse BASE_URL COOKIE N");
    let base = args.next().ok_or_else(usage)?;
    let cookie = args.next().ok_or_else(usage)?;
    let n: usize = args.next().ok_or_else(usage)?.parse()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let streams = runtime.block_on(motcua_tests::bench::open_live_streams(&base, &cookie, n))?;
    println!("open {}", streams.len());
    // Held until the bench closes our standard input.
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    drop(streams);
    Ok(())
}
