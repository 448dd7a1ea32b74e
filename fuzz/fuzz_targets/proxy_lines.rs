//! The MCP proxy's client side: the fuzzer's bytes are what a client writes; the relay reads
//! them as lines, parses, looks requests up and forwards the rest to a server that answers
//! nothing. It must end (the client's input ends) without a panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use stowage_mcp::proxy::Proxy;
use stowage_mcp::{Caller, ResponseCache};
use tokio::io::AsyncReadExt;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let proxy = Proxy::new(ResponseCache::in_memory(), Caller::anonymous()).max_line_bytes(1024);
    runtime().block_on(async {
        let (server_in, mut server_reader) = tokio::io::duplex(1 << 16);
        let (_server_writer, server_out) = tokio::io::duplex(1 << 16);
        let (client_out, mut client_reader) = tokio::io::duplex(1 << 16);
        // Drain both outputs so the relay never blocks on a full pipe.
        let drain = async move {
            let mut sink = Vec::new();
            let _ = tokio::join!(
                server_reader.read_to_end(&mut sink),
                async { client_reader.read_to_end(&mut Vec::new()).await }
            );
        };
        let relay = proxy.relay(data, client_out, server_in, server_out);
        let (relayed, ()) = tokio::join!(relay, drain);
        relayed.unwrap();
    });
});
