//! [`WatchedTransport`]: a server transport that tells the cache when the server asks the client
//! something, so that answers depending on the client's reply are not stored.

use std::borrow::Cow;

use rmcp::RoleServer;
use rmcp::model::JsonRpcMessage;
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::{IntoTransport, Transport};

use crate::cache::ResponseCache;

/// A [`Transport`] for an rmcp server that notes every request the server sends the client
/// (`elicitation/create`, `sampling/createMessage`, `roots/list`) in a [`ResponseCache`]
/// ([`ResponseCache::note_nested_request`]): the answers of requests in flight at that moment
/// are then not stored, since they may depend on the client's reply.
///
/// ```no_run
/// # async fn demo(my_server: impl rmcp::ServerHandler) -> Result<(), Box<dyn std::error::Error>> {
/// use rmcp::ServiceExt;
/// use stowage_mcp::{CachingHandler, ResponseCache, watched};
///
/// let cache = ResponseCache::in_memory();
/// let transport = watched(rmcp::transport::stdio(), cache.clone());
/// let running = CachingHandler::new(my_server, cache).serve(transport).await?;
/// running.waiting().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct WatchedTransport<T> {
    inner: T,
    cache: ResponseCache,
}

impl<T> WatchedTransport<T> {
    /// Watch the transport `inner` on behalf of `cache`.
    pub fn new(inner: T, cache: ResponseCache) -> Self {
        WatchedTransport { inner, cache }
    }

    /// Unwrap.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

/// Watch anything rmcp turns into a server transport (`rmcp::transport::stdio()`, a pair of
/// async reader and writer, a duplex stream, …) on behalf of `cache`: a [`WatchedTransport`].
pub fn watched<I, E, A>(
    io: I,
    cache: ResponseCache,
) -> WatchedTransport<impl Transport<RoleServer, Error = E> + 'static>
where
    I: IntoTransport<RoleServer, E, A>,
    E: std::error::Error + Send + Sync + 'static,
{
    WatchedTransport {
        inner: io.into_transport(),
        cache,
    }
}

impl<T: Transport<RoleServer>> Transport<RoleServer> for WatchedTransport<T> {
    type Error = T::Error;

    fn name() -> Cow<'static, str> {
        T::name()
    }

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        if matches!(item, JsonRpcMessage::Request(_)) {
            self.cache.note_nested_request();
        }
        self.inner.send(item)
    }

    fn receive(&mut self) -> impl Future<Output = Option<RxJsonRpcMessage<RoleServer>>> + Send {
        self.inner.receive()
    }

    fn close(&mut self) -> impl Future<Output = Result<(), Self::Error>> + Send {
        self.inner.close()
    }
}
