//! Platform-aware default storage for the cache.
//!
//! With no configuration:
//!
//! | platform | store |
//! | --- | --- |
//! | macOS | encrypted disk stores in `~/Library/Application Support/stowage/mcp-cache/` |
//! | Windows | encrypted disk stores in `%LOCALAPPDATA%\stowage\mcp-cache\` |
//! | Linux and the rest | memory |
//!
//! The directory holds one database per server namespace (`<namespace>.redb`), so the many
//! proxies a desktop client starts (one per configured server) each keep their own, and one
//! Fernet key, `cache.key`, generated on first use and readable by the owner only. A second
//! process of the *same* server finds that server's database locked and falls back to memory,
//! saying so on stderr ([`open_choice_or_memory`]): it never refuses to start.
//!
//! The environment variable [`STORE_URL_ENV`] (`STOWAGE_STORE_URL`) overrides the platform's
//! choice with any store URL; [`CACHE_DIR_ENV`] (`STOWAGE_MCP_CACHE_DIR`) picks the encrypted
//! disk stores in a directory of its own, on any platform.
//!
//! [`choose`] is pure — it takes the platform and a view of the environment — so the choice is
//! tested for every platform on any platform; [`open_choice`] then builds the store.

use std::fmt;
use std::path::PathBuf;

use stowage_core::{DynStore, Error, ErrorKind, Result};

use crate::namespace::Namespace;

fn database_path(dir: &std::path::Path, namespace: &Namespace) -> PathBuf {
    dir.join(format!("{namespace}.redb"))
}

/// The environment variable holding a store URL that overrides the platform default.
pub const STORE_URL_ENV: &str = "STOWAGE_STORE_URL";
/// The environment variable naming a directory for the encrypted disk stores, on any platform
/// (Linux included); [`STORE_URL_ENV`] wins over it.
pub const CACHE_DIR_ENV: &str = "STOWAGE_MCP_CACHE_DIR";

/// The URL schemes a store URL may use (the facade's list: [`stowage::open::SCHEMES`]).
pub use stowage::open::SCHEMES;

/// The operating system family the default is chosen for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Platform {
    /// Linux.
    Linux,
    /// macOS.
    MacOs,
    /// Windows.
    Windows,
    /// Anything else (the BSDs, …): treated as Linux.
    Other,
}

impl Platform {
    /// The platform this program was built for.
    pub const fn current() -> Platform {
        if cfg!(target_os = "macos") {
            Platform::MacOs
        } else if cfg!(target_os = "windows") {
            Platform::Windows
        } else if cfg!(target_os = "linux") {
            Platform::Linux
        } else {
            Platform::Other
        }
    }

    /// Whether this is a desktop platform, where the default store persists on disk.
    pub const fn is_desktop(self) -> bool {
        matches!(self, Platform::MacOs | Platform::Windows)
    }
}

/// The store the defaults pick.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreChoice {
    /// A fresh in-memory store.
    Memory,
    /// Persistent disk stores, Fernet-encrypted, in `dir`: one database per server namespace
    /// (`dir/<namespace>.redb`), one key (`dir/cache.key`).
    EncryptedDisk {
        /// The directory holding the database and the key.
        dir: PathBuf,
    },
    /// The store a URL names (from [`STORE_URL_ENV`] or an explicit option).
    Url(String),
}

impl StoreChoice {
    /// The database file of namespace `namespace` in an [`StoreChoice::EncryptedDisk`] choice.
    pub fn database_path(&self, namespace: &Namespace) -> Option<PathBuf> {
        match self {
            StoreChoice::EncryptedDisk { dir } => Some(database_path(dir, namespace)),
            _ => None,
        }
    }

    /// The key file of an [`StoreChoice::EncryptedDisk`] choice.
    pub fn key_path(&self) -> Option<PathBuf> {
        match self {
            StoreChoice::EncryptedDisk { dir } => Some(dir.join("cache.key")),
            _ => None,
        }
    }
}

impl fmt::Debug for StoreChoice {
    /// URLs may hold passwords: only their scheme is shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreChoice::Memory => f.write_str("Memory"),
            StoreChoice::EncryptedDisk { dir } => {
                f.debug_struct("EncryptedDisk").field("dir", dir).finish()
            }
            StoreChoice::Url(url) => f
                .debug_tuple("Url")
                .field(&format_args!("{}://…", scheme_of(url).unwrap_or("?")))
                .finish(),
        }
    }
}

fn scheme_of(url: &str) -> Option<&str> {
    url.split_once("://").map(|(s, _)| s)
}

/// Check that `url` names a store this library knows (by scheme; [`stowage::open::scheme`]);
/// the backend checks the rest.
pub fn check_url(url: &str) -> Result<()> {
    stowage::open::scheme(url).map(drop)
}

/// The directory the desktop default lives in, from the platform's conventions.
///
/// macOS: `$HOME/Library/Application Support/stowage/mcp-cache`. Windows:
/// `%LOCALAPPDATA%\stowage\mcp-cache` (else `%APPDATA%`, else
/// `%USERPROFILE%\AppData\Local`). `None` on other platforms or when the variables are unset.
pub fn data_dir(platform: Platform, env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let var = |name: &str| env(name).filter(|v| !v.is_empty());
    match platform {
        Platform::MacOs => var("HOME").map(|home| {
            PathBuf::from(home)
                .join("Library")
                .join("Application Support")
                .join("stowage")
                .join("mcp-cache")
        }),
        Platform::Windows => {
            let base = var("LOCALAPPDATA")
                .or_else(|| var("APPDATA"))
                .or_else(|| var("USERPROFILE").map(|p| format!("{p}\\AppData\\Local")))?;
            // Windows separators, so the path is right on Windows and testable elsewhere.
            Some(PathBuf::from(format!(
                "{}\\stowage\\mcp-cache",
                base.trim_end_matches(['\\', '/'])
            )))
        }
        Platform::Linux | Platform::Other => None,
    }
}

/// Choose the store for `platform`, reading the environment through `env`.
///
/// `STOWAGE_STORE_URL` (when set and not empty) wins and must have a known scheme; then
/// `STOWAGE_MCP_CACHE_DIR` (when set and not empty) picks [`StoreChoice::EncryptedDisk`] there.
/// Otherwise desktop platforms get [`StoreChoice::EncryptedDisk`] in [`data_dir`] (memory when
/// the platform's variables are missing), and the rest get [`StoreChoice::Memory`].
///
/// ```
/// use stowage_mcp::defaults::{choose, Platform, StoreChoice};
///
/// let env = |name: &str| (name == "HOME").then(|| "/Users/ada".to_string());
/// let choice = choose(Platform::MacOs, &env).unwrap();
/// assert!(matches!(choice, StoreChoice::EncryptedDisk { .. }));
/// assert_eq!(choose(Platform::Linux, &env).unwrap(), StoreChoice::Memory);
///
/// let env = |name: &str| (name == "STOWAGE_STORE_URL").then(|| "redis://127.0.0.1:6379/".to_string());
/// assert_eq!(choose(Platform::MacOs, &env).unwrap(), StoreChoice::Url("redis://127.0.0.1:6379/".into()));
/// ```
pub fn choose(platform: Platform, env: &dyn Fn(&str) -> Option<String>) -> Result<StoreChoice> {
    if let Some(url) = env(STORE_URL_ENV)
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty())
    {
        check_url(&url)?;
        return Ok(StoreChoice::Url(url));
    }
    if let Some(dir) = env(CACHE_DIR_ENV).filter(|d| !d.trim().is_empty()) {
        return Ok(StoreChoice::EncryptedDisk {
            dir: PathBuf::from(dir),
        });
    }
    if platform.is_desktop()
        && let Some(dir) = data_dir(platform, env)
    {
        return Ok(StoreChoice::EncryptedDisk { dir });
    }
    Ok(StoreChoice::Memory)
}

/// [`choose`] for this platform and this process's environment.
pub fn choose_here() -> Result<StoreChoice> {
    choose(Platform::current(), &|name| std::env::var(name).ok())
}

/// Build the store `choice` names, for the server `namespace` names (the encrypted disk
/// choice keeps a database per namespace; other stores hold every namespace).
///
/// URLs go through [`open_url`]; the encrypted disk store is built by [`open_encrypted_disk`].
pub async fn open_choice(choice: &StoreChoice, namespace: &Namespace) -> Result<DynStore> {
    match choice {
        StoreChoice::Memory => Ok(memory()),
        StoreChoice::Url(url) => open_url(url).await,
        StoreChoice::EncryptedDisk { dir } => open_encrypted_disk(dir, namespace).await,
    }
}

fn memory() -> DynStore {
    std::sync::Arc::new(stowage_memory::MemoryStore::new())
}

/// Like [`open_choice`], except that a platform default that cannot be opened (the database
/// is open in another process of the same server, the directory is not writable, the key file
/// is refused) gives a fresh in-memory store instead, with a warning saying why: the cache
/// then works for this process only, and the program still starts. A store named by URL is
/// opened as [`open_choice`] opens it: an explicit choice that fails is an error.
pub async fn open_choice_or_memory(
    choice: &StoreChoice,
    namespace: &Namespace,
) -> Result<(DynStore, Option<String>)> {
    match (choice, open_choice(choice, namespace).await) {
        (_, Ok(store)) => Ok((store, None)),
        (StoreChoice::Url(_), Err(e)) => Err(e),
        (_, Err(e)) => Ok((
            memory(),
            Some(format!(
                "the cache store ({choice:?}) cannot be opened ({e}); caching in memory for this \
                 process only"
            )),
        )),
    }
}

/// Open the store a URL names, through [`stowage::open`](fn@stowage::open).
///
/// Which schemes work depends on this crate's features (`disk` and the desktop default are on
/// by default; `redis`, `mongodb`, `dynamodb`, `sled` and `rocksdb` are opt-in). A scheme
/// whose backend is not built in is an [`ErrorKind::Unsupported`] error naming the feature.
pub async fn open_url(url: &str) -> Result<DynStore> {
    check_url(url)?;
    stowage::open(url).await
}

/// Open (creating on first use) the Fernet-encrypted disk store of `namespace` in `dir`:
/// database `dir/<namespace>.redb`, key `dir/cache.key`.
///
/// A database is open in one process at a time; a second process of the same namespace gets
/// an error ([`open_choice_or_memory`] falls back to memory then).
///
/// The key is generated on first use and written readable by the owner only (mode 0600 on
/// Unix, in a 0700 directory; on Windows the per-user data directory's ACL applies). An
/// existing key file readable by others is refused with [`ErrorKind::Config`], as is a key
/// file that does not hold a Fernet key. The key never reaches logs or error messages.
#[cfg(feature = "desktop")]
pub async fn open_encrypted_disk(dir: &std::path::Path, namespace: &Namespace) -> Result<DynStore> {
    let dir = dir.to_owned();
    let database = database_path(&dir, namespace);
    tokio::task::spawn_blocking(move || encrypted::open(&dir, &database))
        .await
        .map_err(|e| Error::new(ErrorKind::Backend, format!("disk open task failed: {e}")))?
}

/// Without the `desktop` feature there is no encrypted disk store.
#[cfg(not(feature = "desktop"))]
pub async fn open_encrypted_disk(dir: &std::path::Path, namespace: &Namespace) -> Result<DynStore> {
    let _ = namespace;
    Err(Error::new(
        ErrorKind::Unsupported,
        format!(
            "the encrypted disk store ({}) needs the `desktop` feature of stowage-mcp",
            dir.display()
        ),
    ))
}

#[cfg(feature = "desktop")]
mod encrypted {
    use std::io::{Read, Write};
    use std::path::Path;
    use std::sync::Arc;

    use stowage_core::{DynStore, Error, ErrorKind, KeyValueStoreExt, Result};
    use stowage_disk::DiskStore;
    use stowage_wrappers::fernet::{FernetKey, FernetLayer};
    use zeroize::Zeroizing;

    fn io_error(what: &str, path: &Path, e: std::io::Error) -> Error {
        Error::new(
            ErrorKind::Config,
            format!("cannot {what} {}: {e}", path.display()),
        )
        .with_source(e)
    }

    pub(super) fn open(dir: &Path, database: &Path) -> Result<DynStore> {
        create_private_dir(dir)?;
        let key_text = load_or_create_key(&dir.join("cache.key"))?;
        let key = FernetKey::from_base64(&key_text).map_err(|_| {
            Error::new(
                ErrorKind::Config,
                format!(
                    "{} does not hold a Fernet key; delete it (and the .redb files beside it) to start afresh",
                    dir.join("cache.key").display()
                ),
            )
        })?;
        let disk = DiskStore::open(database)?;
        Ok(Arc::new(disk.layer(FernetLayer::new(key))))
    }

    fn create_private_dir(dir: &Path) -> Result<()> {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(dir)
            .map_err(|e| io_error("create the cache directory", dir, e))
    }

    pub(super) fn load_or_create_key(path: &Path) -> Result<Zeroizing<String>> {
        match read_key(path) {
            Ok(text) => return Ok(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error("read the cache key", path, e)),
        }
        let text = FernetKey::generate_text();
        // Written in full to a file of this call's own, then published under `path` in one
        // step (a hard link never replaces an existing file): a process starting at the same
        // moment sees no key or a whole one, never a half-written one.
        let draft = draft_path(path);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options.open(&draft).and_then(|mut file| {
            file.write_all(text.as_bytes())?;
            file.sync_all()
        });
        let published = written.and_then(|()| std::fs::hard_link(&draft, path));
        let _ = std::fs::remove_file(&draft);
        match published {
            Ok(()) => Ok(text),
            // Another process published one first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                read_key(path).map_err(|e| io_error("read the cache key", path, e))
            }
            Err(e) => Err(io_error("create the cache key", path, e)),
        }
    }

    /// A scratch name beside `path`, unique to this call (process id and a counter).
    fn draft_path(path: &Path) -> std::path::PathBuf {
        static DRAFTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = DRAFTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut name = path.file_name().unwrap_or_default().to_owned();
        name.push(format!(".{}.{n}.draft", std::process::id()));
        path.with_file_name(name)
    }

    fn read_key(path: &Path) -> std::io::Result<Zeroizing<String>> {
        let mut file = std::fs::File::open(path)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = file.metadata()?.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!(
                        "the key file is readable by others (mode {:o}); run `chmod 600` on it",
                        mode & 0o777
                    ),
                ));
            }
        }
        let mut text = Zeroizing::new(String::new());
        file.read_to_string(&mut text)?;
        let trimmed = Zeroizing::new(text.trim().to_owned());
        Ok(trimmed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    const DESKTOP_ENV: &[(&str, &str)] = &[
        ("HOME", "/Users/ada"),
        ("LOCALAPPDATA", "C:\\Users\\ada\\AppData\\Local"),
        ("APPDATA", "C:\\Users\\ada\\AppData\\Roaming"),
        ("USERPROFILE", "C:\\Users\\ada"),
        ("XDG_DATA_HOME", "/home/ada/.local/share"),
    ];

    #[test]
    fn macos_gets_an_encrypted_disk_store_in_application_support() {
        let choice = choose(Platform::MacOs, &env_of(DESKTOP_ENV)).unwrap();
        assert_eq!(
            choice,
            StoreChoice::EncryptedDisk {
                dir: PathBuf::from("/Users/ada/Library/Application Support/stowage/mcp-cache")
            }
        );
        assert_eq!(
            choice.key_path().unwrap(),
            PathBuf::from("/Users/ada/Library/Application Support/stowage/mcp-cache/cache.key")
        );
    }

    #[test]
    fn windows_gets_an_encrypted_disk_store_in_local_app_data() {
        let choice = choose(Platform::Windows, &env_of(DESKTOP_ENV)).unwrap();
        let StoreChoice::EncryptedDisk { dir } = choice else {
            panic!("{choice:?}")
        };
        assert_eq!(
            dir.to_str().unwrap(),
            "C:\\Users\\ada\\AppData\\Local\\stowage\\mcp-cache"
        );
    }

    #[test]
    fn windows_falls_back_through_app_data_and_user_profile() {
        let env = env_of(&[("APPDATA", "C:\\R\\"), ("USERPROFILE", "C:\\U")]);
        let StoreChoice::EncryptedDisk { dir } = choose(Platform::Windows, &env).unwrap() else {
            panic!()
        };
        assert_eq!(dir.to_str().unwrap(), "C:\\R\\stowage\\mcp-cache");
        let env = env_of(&[("USERPROFILE", "C:\\U")]);
        let StoreChoice::EncryptedDisk { dir } = choose(Platform::Windows, &env).unwrap() else {
            panic!()
        };
        assert_eq!(
            dir.to_str().unwrap(),
            "C:\\U\\AppData\\Local\\stowage\\mcp-cache"
        );
    }

    #[test]
    fn linux_and_others_get_memory() {
        for p in [Platform::Linux, Platform::Other] {
            assert_eq!(
                choose(p, &env_of(DESKTOP_ENV)).unwrap(),
                StoreChoice::Memory
            );
            assert!(!p.is_desktop());
        }
    }

    #[test]
    fn desktop_without_a_home_gets_memory() {
        for p in [Platform::MacOs, Platform::Windows] {
            assert_eq!(
                choose(p, &env_of(&[("HOME", "")])).unwrap(),
                StoreChoice::Memory
            );
        }
    }

    #[test]
    fn the_url_variable_overrides_every_platform() {
        for url in [
            "memory://",
            "disk:///var/cache/mcp.redb",
            "redis://127.0.0.1:6379/0",
            "rediss://cache.example:6380/",
            "mongodb://127.0.0.1:27017/?directConnection=true",
            "dynamodb://mcp-cache?endpoint=http://127.0.0.1:8000",
            "rocksdb:///var/cache/mcp",
            "sled:///var/cache/mcp.sled",
        ] {
            let mut pairs = DESKTOP_ENV.to_vec();
            pairs.push((STORE_URL_ENV, url));
            for p in [
                Platform::Linux,
                Platform::MacOs,
                Platform::Windows,
                Platform::Other,
            ] {
                assert_eq!(
                    choose(p, &env_of(&pairs)).unwrap(),
                    StoreChoice::Url(url.to_string()),
                    "{p:?} {url}"
                );
            }
        }
    }

    #[test]
    fn an_empty_url_variable_is_ignored_and_a_bad_one_refused() {
        let env = env_of(&[(STORE_URL_ENV, "  "), ("HOME", "/Users/ada")]);
        assert!(matches!(
            choose(Platform::MacOs, &env).unwrap(),
            StoreChoice::EncryptedDisk { .. }
        ));
        for bad in ["postgres://x", "/just/a/path", "redis:/x"] {
            let env = env_of(&[(STORE_URL_ENV, bad)]);
            let err = choose(Platform::Linux, &env).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Config, "{bad}");
        }
    }

    #[test]
    fn debug_hides_url_credentials() {
        let c = StoreChoice::Url("redis://:hunter2@host:6379/".into());
        let text = format!("{c:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("redis://"));
    }

    #[test]
    fn the_current_platform_matches_the_build() {
        if cfg!(target_os = "linux") {
            assert_eq!(Platform::current(), Platform::Linux);
        }
    }
}
