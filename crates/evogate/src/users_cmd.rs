//! `evogate user add` and `evogate apikey create`: managing logins from the command line.
//!
//! Both open the SQLite file directly and use the same [`AuthStore`] the server uses, so a user
//! added here can sign in at once, even while a server runs on the same file (SQLite's WAL
//! lets both write).

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use billing::store::SqliteStore;
use clap::Args;
use gateway::auth::{
    ApiKeyRecord, AuthStore, AuthStoreError, NewAuthUser, api_key_hash, new_api_key, new_user_id,
};

/// `evogate user add`: creates a user with roles.
#[derive(Clone, Args)]
pub struct UserAddArgs {
    /// The SQLite database file.
    #[arg(long, env = "EVOGATE_DB", default_value = "./evogate.db")]
    pub db: PathBuf,
    /// The sign-in name (an email address or a plain name).
    #[arg(long)]
    pub name: String,
    /// A role to grant; repeat for several (`--role Manager --role Admin`).
    #[arg(long = "role")]
    pub roles: Vec<String>,
    /// A display name.
    #[arg(long)]
    pub display_name: Option<String>,
    /// Read the password from the first line of standard input (keeps it out of the shell
    /// history and the process list).
    #[arg(
        long,
        conflicts_with = "password",
        required_unless_present = "password"
    )]
    pub password_stdin: bool,
    /// The password on the command line (visible to other local users; prefer
    /// `--password-stdin`).
    #[arg(long)]
    pub password: Option<String>,
}

// Written by hand so the password never reaches a log line.
impl std::fmt::Debug for UserAddArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserAddArgs")
            .field("db", &self.db)
            .field("name", &self.name)
            .field("roles", &self.roles)
            .field("display_name", &self.display_name)
            .field("password_stdin", &self.password_stdin)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// `evogate apikey create`: creates an API key for a user and prints it once.
#[derive(Debug, Clone, Args)]
pub struct ApiKeyCreateArgs {
    /// The SQLite database file.
    #[arg(long, env = "EVOGATE_DB", default_value = "./evogate.db")]
    pub db: PathBuf,
    /// The user who owns the key.
    #[arg(long)]
    pub user: String,
    /// A label for the key.
    #[arg(long)]
    pub name: Option<String>,
}

/// Runs blocking store work off any async runtime: the store's blocking writes must not run on
/// a runtime thread, and `main` may call these functions from inside one.
fn off_runtime<R: Send>(work: impl FnOnce() -> anyhow::Result<R> + Send) -> anyhow::Result<R> {
    if tokio::runtime::Handle::try_current().is_err() {
        return work();
    }
    std::thread::scope(|s| s.spawn(work).join())
        .unwrap_or_else(|_| bail!("the command's worker thread panicked"))
}

fn open(db: &PathBuf) -> anyhow::Result<Arc<SqliteStore>> {
    let store = SqliteStore::open(db)
        .with_context(|| format!("cannot open the database {}", db.display()))?;
    Ok(Arc::new(store))
}

fn read_password(args: &UserAddArgs, input: &mut dyn BufRead) -> anyhow::Result<String> {
    let password = if args.password_stdin {
        let mut line = String::new();
        input
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else {
        args.password.clone().unwrap_or_default()
    };
    if password.is_empty() {
        bail!("the password must not be empty");
    }
    Ok(password)
}

/// Creates the user described by `args`, reading the password from standard input with
/// `--password-stdin`, and reports the new user's id on standard output.
///
/// # Errors
/// A missing or empty password, a user name that is taken, or a store failure.
pub fn run_user_add(args: UserAddArgs) -> anyhow::Result<()> {
    let password = read_password(&args, &mut std::io::stdin().lock())?;
    let id = add_user(&args, &password)?;
    writeln!(
        std::io::stdout().lock(),
        "created user {} ({id})",
        args.name.trim()
    )?;
    Ok(())
}

/// Creates a user; returns its id. The testable core of [`run_user_add`].
///
/// # Errors
/// As [`run_user_add`].
pub fn add_user(args: &UserAddArgs, password: &str) -> anyhow::Result<String> {
    let name = args.name.trim().to_string();
    if name.is_empty() {
        bail!("the user name must not be empty");
    }
    let roles: Vec<String> = args
        .roles
        .iter()
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .collect();
    let password = password.to_string();
    let display_name = args.display_name.clone();
    let db = args.db.clone();
    off_runtime(move || {
        let store = open(&db)?;
        let hash = gateway::auth::passwords::hash_blocking(&password)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let user = NewAuthUser {
            id: new_user_id(),
            user_name: name.clone(),
            display_name,
            email: name.contains('@').then(|| name.clone()),
            password_hash: hash,
            roles,
            permissions: Vec::new(),
        };
        match AuthStore::create_user(store.as_ref(), &user) {
            Ok(()) => Ok(user.id),
            Err(AuthStoreError::Conflict(_)) => bail!("a user named {name} already exists"),
            Err(e) => Err(anyhow::anyhow!("cannot create the user: {e}")),
        }
    })
}

/// Creates an API key for `args.user` and prints it once on standard output.
///
/// # Errors
/// An unknown user or a store failure.
pub fn run_apikey_create(args: ApiKeyCreateArgs) -> anyhow::Result<()> {
    let (id, key) = create_api_key(&args)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{key}")?;
    // The id goes to stderr, so `KEY=$(evogate apikey create ...)` captures only the key.
    writeln!(
        std::io::stderr().lock(),
        "created API key {id}; it is shown only once"
    )?;
    Ok(())
}

/// Creates an API key; returns its id and the key. The testable core of [`run_apikey_create`].
///
/// # Errors
/// As [`run_apikey_create`].
pub fn create_api_key(args: &ApiKeyCreateArgs) -> anyhow::Result<(String, String)> {
    let (db, user_name, label) = (
        args.db.clone(),
        args.user.trim().to_string(),
        args.name.clone(),
    );
    off_runtime(move || {
        let store = open(&db)?;
        let Some(user) = AuthStore::find_user_by_name(store.as_ref(), &user_name)
            .map_err(|e| anyhow::anyhow!("cannot look the user up: {e}"))?
        else {
            bail!("no user named {user_name}");
        };
        let key = new_api_key();
        let record = ApiKeyRecord::new(user.id, label);
        store
            .create_api_key(&record, &api_key_hash(&key))
            .map_err(|e| anyhow::anyhow!("cannot store the API key: {e}"))?;
        Ok((record.id, key))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[derive(clap::Parser)]
    struct UserCli {
        #[command(flatten)]
        args: UserAddArgs,
    }

    #[derive(clap::Parser)]
    struct KeyCli {
        #[command(flatten)]
        args: ApiKeyCreateArgs,
    }

    #[test]
    fn arguments_parse_as_documented() {
        use clap::Parser;
        let a = UserCli::try_parse_from([
            "user",
            "--db",
            "x.db",
            "--name",
            "m",
            "--role",
            "Manager",
            "--role",
            "Admin",
            "--password-stdin",
        ])
        .unwrap()
        .args;
        assert_eq!(
            (a.name.as_str(), a.roles.len(), a.password_stdin),
            ("m", 2, true)
        );
        assert!(!format!("{a:?}").contains("secret"));
        let a = UserCli::try_parse_from(["user", "--name", "m", "--password", "secret"])
            .unwrap()
            .args;
        assert_eq!(a.password.as_deref(), Some("secret"));
        assert!(
            !format!("{a:?}").contains("secret"),
            "the password stays out of Debug"
        );
        assert!(
            UserCli::try_parse_from(["user", "--name", "m"]).is_err(),
            "a password source is required"
        );
        assert!(
            UserCli::try_parse_from(["user", "--name", "m", "--password", "p", "--password-stdin"])
                .is_err()
        );
        let k = KeyCli::try_parse_from(["apikey", "--db", "x.db", "--user", "m", "--name", "ci"])
            .unwrap()
            .args;
        assert_eq!((k.user.as_str(), k.name.as_deref()), ("m", Some("ci")));
    }

    #[test]
    fn password_comes_from_the_first_line_of_stdin() {
        let args = UserAddArgs {
            db: PathBuf::from("x.db"),
            name: "m".to_string(),
            roles: vec![],
            display_name: None,
            password_stdin: true,
            password: None,
        };
        assert_eq!(
            read_password(&args, &mut "s3cret\r\nmore\n".as_bytes()).unwrap(),
            "s3cret"
        );
        assert!(read_password(&args, &mut "\n".as_bytes()).is_err());
    }

    #[test]
    fn users_and_keys_land_in_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("cli.db");
        let args = UserAddArgs {
            db: db.clone(),
            name: "ops@example.com".to_string(),
            roles: vec!["Manager".to_string(), " ".to_string()],
            display_name: Some("Ops".to_string()),
            password_stdin: false,
            password: Some("pw".to_string()),
        };
        let id = add_user(&args, "pw").unwrap();
        assert!(add_user(&args, "pw").is_err(), "duplicate name");
        let (key_id, key) = create_api_key(&ApiKeyCreateArgs {
            db: db.clone(),
            user: "OPS@example.com".to_string(),
            name: None,
        })
        .unwrap();
        assert!(key.starts_with("ak-") && key.len() == 35);
        let store = SqliteStore::open(&db).unwrap();
        let user = AuthStore::find_user_by_name(&store, "ops@example.com")
            .unwrap()
            .unwrap();
        assert_eq!(
            (user.id.as_str(), user.roles.as_slice()),
            (id.as_str(), ["Manager".to_string()].as_slice())
        );
        assert!(gateway::auth::passwords::verify_blocking(
            "pw",
            Some(&user.password_hash)
        ));
        assert_eq!(
            store.find_api_key(&api_key_hash(&key)).unwrap().unwrap().id,
            key_id
        );
        assert!(
            create_api_key(&ApiKeyCreateArgs {
                db,
                user: "nobody".to_string(),
                name: None
            })
            .is_err()
        );
    }
}
