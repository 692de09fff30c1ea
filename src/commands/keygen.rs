//! `conform keygen --out KEY`: an ed25519 key pair for signing audit bundles. The secret key
//! goes to KEY (mode 0600), the public key to KEY.pub.

use std::io::Write;
use std::path::{Path, PathBuf};

use conform_engine::bundle::keys;

use crate::cli::KeygenArgs;
use crate::error::CliError;
use crate::exit::Exit;

/// `KEY.pub` beside `KEY`.
pub fn pub_path(key: &Path) -> PathBuf {
    let mut s = key.as_os_str().to_owned();
    s.push(".pub");
    PathBuf::from(s)
}

fn write_file(path: &Path, text: &str, secret: bool, force: bool) -> Result<(), CliError> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true);
    if force {
        o.create(true).truncate(true);
    } else {
        o.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(if secret { 0o600 } else { 0o644 });
    }
    let mut f = o.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            CliError::Input(format!(
                "`{}` already exists; pass --force to replace it",
                path.display()
            ))
        } else {
            CliError::Input(format!("cannot create `{}`: {e}", path.display()))
        }
    })?;
    #[cfg(unix)]
    if secret {
        // A replaced file keeps its old mode: make sure the secret is private.
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| CliError::Input(format!("cannot restrict `{}`: {e}", path.display())))?;
    }
    f.write_all(text.as_bytes())
        .map_err(|e| CliError::Input(format!("cannot write `{}`: {e}", path.display())))
}

pub fn run(args: &KeygenArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed)
        .map_err(|e| CliError::Input(format!("no randomness from the operating system: {e}")))?;
    let key = keys::from_seed(seed);
    let public = pub_path(&args.out);
    if !args.force {
        if let Some(p) = [&args.out, &public].into_iter().find(|p| p.exists()) {
            return Err(CliError::Input(format!(
                "`{}` already exists; pass --force to replace it",
                p.display()
            )));
        }
    }
    write_file(&args.out, &keys::secret_key_text(&key), true, args.force)?;
    write_file(
        &public,
        &keys::public_key_text(&key.verifying_key()),
        false,
        args.force,
    )?;
    writeln!(
        out,
        "secret key: {} (mode 0600: keep it private)\npublic key: {} ({})",
        args.out.display(),
        public.display(),
        keys::key_hex(&key.verifying_key())
    )
    .map_err(CliError::output)?;
    Ok(Exit::Success)
}
