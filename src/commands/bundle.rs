//! `conform export bundle --out FILE [--key KEY] [--minimal]`: one archive with the findings,
//! the SoA, the pack, the evidence, the run's parameters, and a signed manifest of hashes.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use conform_engine::bundle::{self, keys, Contents};

use crate::cli::BundleArgs;
use crate::config::Config;
use crate::error::{chain, CliError};
use crate::exit::Exit;

fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path)
        .map_err(|e| CliError::Input(format!("cannot read `{}`: {e}", path.display())))
}

/// A secret key file from `conform keygen`.
pub fn read_key(path: &Path) -> Result<bundle::SigningKey, CliError> {
    let text = String::from_utf8(read(path)?)
        .map_err(|_| CliError::Input(format!("`{}` is not a key file", path.display())))?;
    keys::parse_secret_key(&text).map_err(|e| CliError::Input(format!("`{}`: {e}", path.display())))
}

/// Every file of the snapshot in `dir` the manifest lists, and the manifest itself.
fn snapshot_files(
    dir: &Path,
    manifest: &conform_engine::snapshot::Manifest,
) -> Result<BTreeMap<String, Vec<u8>>, CliError> {
    let mut out = BTreeMap::new();
    let bytes = read(&dir.join("manifest.json"))?;
    let again = conform_engine::snapshot::parse_manifest(&bytes).map_err(CliError::input)?;
    if again.snapshot_id != manifest.snapshot_id {
        return Err(CliError::Input(format!(
            "snapshot `{}` changed while it was being bundled",
            dir.display()
        )));
    }
    out.insert("manifest.json".to_string(), bytes);
    for f in &manifest.files {
        bundle::archive::check_path(&f.path).map_err(CliError::input)?;
        out.insert(f.path.clone(), read(&dir.join(&f.path))?);
    }
    Ok(out)
}

pub fn run(args: &BundleArgs, config: &Config, out: &mut dyn Write) -> Result<Exit, CliError> {
    let key = args.key.as_deref().map(read_key).transpose()?;
    let inputs = crate::commands::load_inputs(&args.inputs, config)?;
    let pack_dir = crate::commands::pack_dir(args.inputs.pack.pack.as_deref(), config);
    let pack_files =
        conform_engine::fs::load_pack(&pack_dir).map_err(|e| CliError::Input(chain(&e)))?;
    if conform_engine::pack::digest(&pack_files) != inputs.pack.digest {
        return Err(CliError::Input(format!(
            "pack `{}` changed while it was being bundled",
            pack_dir.display()
        )));
    }
    let assessment = inputs.assess()?;
    let contents = Contents {
        pack: &inputs.pack,
        pack_files: &pack_files,
        assessment: &assessment,
        at: inputs.at,
        applicability: &config.applicability,
        snapshot_files: snapshot_files(&inputs.snapshot_dir, &inputs.snapshot.manifest)?,
        minimal: args.minimal,
    };
    let files = bundle::assemble(&contents).map_err(CliError::input)?;
    let count = files.len();
    let evidence = if args.minimal { "minimal" } else { "full" };
    let manifest = bundle::manifest_for(&files, &assessment, evidence, key.as_ref());
    let bytes = bundle::seal(files, &manifest, key.as_ref()).map_err(CliError::input)?;
    crate::commands::export::write_file(&args.out, &bytes)?;
    let signed = match &manifest.signer {
        Some(k) => format!("signed by ed25519 key {k}"),
        None => "not signed (pass --key KEY to sign)".to_string(),
    };
    writeln!(
        out,
        "wrote {}: {count} files, {} findings, {evidence} evidence, {signed}",
        args.out.display(),
        assessment.findings.len()
    )
    .map_err(CliError::output)?;
    Ok(Exit::Success)
}
