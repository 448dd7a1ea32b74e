//! Connecting: client options from the URL, the database, the first contact under the
//! deadline.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mongodb::Client;
use mongodb::options::ClientOptions;
use stowage_core::{Capabilities, Expiry, Result};

use crate::config::{
    DEFAULT_DATABASE, MAX_NAMESPACE_LEN, MongoConfig, check_database, config_error,
};

use crate::store::{Inner, MAX_VALUE_LEN, MongoStore};

impl MongoStore {
    pub(crate) async fn from_config(config: MongoConfig) -> Result<Self> {
        if config.timeout.is_zero() {
            return Err(config_error(
                "MongoDB store: the timeout must be greater than zero",
            ));
        }
        let (client, url_database) = match config.client {
            Some(client) => (client, None),
            None => {
                let mut options = ClientOptions::parse(&config.url).await.map_err(|e| {
                    config_error(format!(
                        "MongoDB store: bad connection string `{}`: {e}",
                        crate::config::redact(&config.url)
                    ))
                })?;
                options
                    .server_selection_timeout
                    .get_or_insert(config.timeout);
                options
                    .connect_timeout
                    .get_or_insert(config.timeout.min(Duration::from_secs(10)));
                options.app_name.get_or_insert_with(|| "stowage".to_owned());
                let database = options.default_database.clone();
                let client = Client::with_options(options).map_err(|e| {
                    config_error(format!("MongoDB store: cannot create the client: {e}"))
                })?;
                (client, database)
            }
        };
        let database = config
            .database
            .or(url_database)
            .unwrap_or_else(|| DEFAULT_DATABASE.to_owned());
        check_database(&database)?;
        let caps = Capabilities::all(Expiry::Approximate)
            .with_max_collection_len(Some(MAX_NAMESPACE_LEN - 1 - database.len()))
            .with_max_value_len(Some(MAX_VALUE_LEN));
        Ok(MongoStore {
            inner: Arc::new(Inner {
                db: client.database(&database),
                client,
                timeout: config.timeout,
                caps,
                indexed: Mutex::new(HashSet::new()),
            }),
        })
    }
}
