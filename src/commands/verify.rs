//! `conform verify BUNDLE [--pubkey KEY]`: the signature, every hash, and a re-run of the
//! assessment from the bundled pack and evidence to identical findings.

use std::io::Write;

use conform_engine::bundle::{self, keys, SignatureCheck};

use crate::cli::VerifyArgs;
use crate::error::CliError;
use crate::exit::Exit;

pub fn run(args: &VerifyArgs, out: &mut dyn Write) -> Result<Exit, CliError> {
    let pinned = match &args.pubkey {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| CliError::Input(format!("cannot read `{}`: {e}", p.display())))?;
            Some(
                keys::parse_public_key(&text)
                    .map_err(|e| CliError::Input(format!("`{}`: {e}", p.display())))?,
            )
        }
        None => None,
    };
    let bytes = std::fs::read(&args.bundle)
        .map_err(|e| CliError::Input(format!("cannot read `{}`: {e}", args.bundle.display())))?;
    let v = bundle::verify(&bytes, pinned.as_ref()).map_err(|f| {
        let list: Vec<String> = f.problems.iter().map(|p| format!("  - {p}")).collect();
        CliError::Input(format!(
            "the bundle does not verify ({} check failed):\n{}",
            f.stage,
            list.join("\n")
        ))
    })?;
    let m = &v.manifest;
    let signature = match &v.signature {
        SignatureCheck::Pinned(k) => format!("valid, by the given key {k}"),
        SignatureCheck::Embedded(k) => format!(
            "valid, by the key the bundle names ({k}); pass --pubkey to check who signed it"
        ),
        SignatureCheck::Unsigned => "none: the bundle is not signed".to_string(),
    };
    let w = |out: &mut dyn Write| -> std::io::Result<()> {
        writeln!(out, "bundle verified: {}", m.organization)?;
        writeln!(out, "  assessed at  {}", m.assessed_at)?;
        writeln!(
            out,
            "  pack         {} {} ({})",
            m.pack.name, m.pack.version, m.pack.digest
        )?;
        writeln!(
            out,
            "  snapshot     {} ({} evidence)",
            m.snapshot, m.evidence
        )?;
        writeln!(out, "  signature    {signature}")?;
        writeln!(
            out,
            "  files        {} files match bundle-manifest.json",
            m.files.len()
        )?;
        writeln!(
            out,
            "  evidence     the {} record(s) the findings cite are present and hash-verified",
            v.cited_records
        )?;
        writeln!(
            out,
            "  re-run       {} findings identical; {} reproduced byte for byte",
            v.findings,
            v.identical.join(", ")
        )
    };
    w(out).map_err(CliError::output)?;
    if v.signature == SignatureCheck::Unsigned {
        eprintln!("warning: the bundle is not signed: its hashes prove nothing about who made it");
    }
    Ok(Exit::Success)
}
