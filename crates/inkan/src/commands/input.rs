//! Reading what the commands take from files: a message (or standard input) and a signing key.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Reads `path`, or standard input when it is `-` or absent.
pub fn read_message(path: Option<&Path>) -> anyhow::Result<Vec<u8>> {
    match path {
        Some(p) if p != Path::new("-") => {
            std::fs::read(p).with_context(|| format!("reading message {}", p.display()))
        }
        _ => {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .context("reading message from standard input")?;
            Ok(buf)
        }
    }
}

/// The UTF-8 byte order mark.
const BOM: &[u8] = b"\xef\xbb\xbf";

/// What a saved file may carry before the message proper, which no signer saw: a UTF-8 byte
/// order mark (Windows editors write one) and an mbox "From " separator line (mail clients
/// write one when they save a single message).
pub struct SavedMessage {
    /// The bytes set aside, to give back in front of a message that is written out again.
    pub prefix: Vec<u8>,
    /// The message proper.
    pub message: Vec<u8>,
}

impl SavedMessage {
    /// Splits off a leading byte order mark and a leading mbox "From " line. "From" followed by
    /// whitespace and a colon is a header field (RFC 5322 §4.5.3 allows the whitespace), not a
    /// separator line.
    pub fn new(mut raw: Vec<u8>) -> SavedMessage {
        let mut at = if raw.starts_with(BOM) { BOM.len() } else { 0 };
        if is_mbox_separator(&raw[at..]) {
            at = raw[at..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(raw.len(), |p| at + p + 1);
        }
        let message = raw.split_off(at);
        SavedMessage {
            prefix: raw,
            message,
        }
    }

    /// Where a second mbox message starts: after an mbox "From " line was set aside, an empty
    /// line followed by another one. Mbox writers quote "From " at the start of a body line
    /// (">From "), so such a line starts the next message, not more of this one.
    pub fn next_mbox_message(&self) -> Option<usize> {
        if !self.has_separator() {
            return None;
        }
        let bytes = &self.message;
        let mut at = 0;
        while let Some(p) = bytes[at..]
            .windows(7)
            .position(|w| w == b"\n\nFrom " || w == b"\n\r\nFrom")
        {
            let line = at + p + if bytes[at + p + 1] == b'\r' { 3 } else { 2 };
            if is_mbox_separator(&bytes[line..]) {
                return Some(line);
            }
            at = line;
        }
        None
    }

    /// Whether an mbox "From " line was set aside.
    fn has_separator(&self) -> bool {
        self.prefix.len()
            > if self.prefix.starts_with(BOM) {
                BOM.len()
            } else {
                0
            }
    }

    /// A note for standard error naming what was set aside, if anything was.
    pub fn note(&self) -> Option<String> {
        let what = match (self.prefix.starts_with(BOM), self.has_separator()) {
            (false, false) => return None,
            (true, false) => "a byte order mark",
            (false, true) => "an mbox 'From ' line",
            (true, true) => "a byte order mark and an mbox 'From ' line",
        };
        Some(format!(
            "{what} before the message is not part of it and was set aside"
        ))
    }
}

/// True when `bytes` starts with an mbox "From " line rather than a `From:` field.
fn is_mbox_separator(bytes: &[u8]) -> bool {
    let Some(rest) = bytes.strip_prefix(b"From ") else {
        return false;
    };
    let after_space = rest.iter().position(|&b| b != b' ' && b != b'\t');
    after_space.is_some_and(|p| !matches!(rest[p], b':' | b'\r' | b'\n'))
}

/// [`read_message`], then [`SavedMessage::new`], with its note on standard error unless
/// `quiet`. An mbox that holds more than one message is an error: read as one message, the
/// others would be taken for the first one's body.
pub fn read_saved_message(path: Option<&Path>, quiet: bool) -> anyhow::Result<SavedMessage> {
    let saved = SavedMessage::new(read_message(path)?);
    if let Some(at) = saved.next_mbox_message() {
        let line = 2 + saved.message[..at].iter().filter(|&&b| b == b'\n').count();
        anyhow::bail!(
            "the input is an mbox with more than one message (the next starts at line {line}); \
             `inkan verify --batch FILE` reads each, or save one message per file"
        );
    }
    if let Some(text) = saved.note() {
        note(quiet, text);
    }
    Ok(saved)
}

/// Every file under `path` (or `path` itself when it is not a directory), appended to `out`
/// sorted by name at each level. Files whose names start with `.` (`.DS_Store`, editor
/// files) and Maildir `tmp/` folders (messages still being delivered) are skipped; hidden
/// directories are read, as Maildir++ keeps its folders in them (`.DMARC/`). Symbolic
/// links are followed, but a directory reached a second time (a link back up the tree) is
/// not walked again, and a link that leads nowhere is left out. Inside a directory only
/// regular files are taken: a named pipe, a socket or a device there is left out, since
/// reading one would wait for a writer or never end. For each of these, a note goes to
/// standard error, unless `quiet`, and the rest goes on. A path named on the command line is
/// read whatever it is (`<(xz -dc report.xml.xz)` is a pipe).
pub fn collect_files(path: &Path, quiet: bool, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let meta = std::fs::metadata(path).with_context(|| format!("reading '{}'", path.display()))?;
    if !meta.is_dir() {
        out.push(path.to_owned());
        return Ok(());
    }
    let mut walked = HashSet::new();
    collect_dir(path, quiet, &mut walked, out)
}

/// [`collect_files`] of the directory `path`; `walked` holds the directories seen so far, by
/// their canonical paths.
fn collect_dir(
    path: &Path,
    quiet: bool,
    walked: &mut HashSet<PathBuf>,
    out: &mut Vec<PathBuf>,
) -> anyhow::Result<()> {
    let canonical =
        std::fs::canonicalize(path).with_context(|| format!("reading '{}'", path.display()))?;
    if !walked.insert(canonical) {
        let shown = path.display();
        note(
            quiet,
            format_args!("'{shown}' leads to a directory already read; skipped"),
        );
        return Ok(());
    }
    // The kind of each entry comes from the listing; only symbolic links are looked up
    // (followed), so a directory of thousands of files costs no stat per file.
    let mut entries = std::fs::read_dir(path)
        .with_context(|| format!("listing '{}'", path.display()))?
        .map(|e| e.and_then(|e| Ok((e.file_name(), e.file_type()?))))
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("listing '{}'", path.display()))?;
    // By name: the same order as sorting the joined paths, without comparing them
    // component by component.
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let is_maildir = path.join("cur").is_dir() && path.join("new").is_dir();
    for (name, kind) in entries {
        if is_maildir && name == "tmp" {
            continue;
        }
        let hidden = name.as_encoded_bytes().starts_with(b".");
        let entry = path.join(&name);
        let kind = if kind.is_symlink() {
            match std::fs::metadata(&entry) {
                Ok(target) => target.file_type(),
                Err(e) => {
                    let shown = entry.display();
                    note(
                        quiet,
                        format_args!("'{shown}' is a link that leads nowhere ({e}); skipped"),
                    );
                    continue;
                }
            }
        } else {
            kind
        };
        if kind.is_dir() {
            collect_dir(&entry, quiet, walked, out)?;
        } else if hidden {
            continue;
        } else if kind.is_file() {
            out.push(entry);
        } else {
            let shown = entry.display();
            note(
                quiet,
                format_args!("'{shown}' is not a regular file (a pipe, socket or device); skipped"),
            );
        }
    }
    Ok(())
}

/// Writes `text` to standard error as a note, unless `quiet`.
fn note(quiet: bool, text: impl std::fmt::Display) {
    if !quiet {
        eprintln!("inkan: note: {text}");
    }
}

/// Reads a private signing key: PEM, RSA (PKCS#1 or PKCS#8) or Ed25519 (PKCS#8), as
/// `inkan keygen` writes. Errors name the file.
pub fn read_signing_key(path: &Path) -> anyhow::Result<inkan_auth::dkim::SigningKey> {
    let pem = std::fs::read_to_string(path)
        .with_context(|| format!("reading key file {}", path.display()))?;
    inkan_auth::dkim::SigningKey::from_pem(&pem)
        .with_context(|| format!("reading key file {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::{BOM, SavedMessage};

    fn split(raw: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let saved = SavedMessage::new(raw.to_vec());
        (saved.prefix, saved.message)
    }

    #[test]
    fn byte_order_mark_and_mbox_line_are_set_aside_and_from_fields_are_not() {
        let message = b"From: a@example.com\r\n\r\nhi\r\n";
        let mbox = b"From a@example.com Sat Nov 28 07:00:00 2026\n";
        let bom: &[u8] = BOM;
        assert_eq!(split(message), (Vec::new(), message.to_vec()));
        assert_eq!(
            split(&[mbox.as_slice(), message].concat()),
            (mbox.to_vec(), message.to_vec())
        );
        assert_eq!(
            split(&[bom, mbox, message].concat()),
            ([bom, mbox].concat(), message.to_vec())
        );
        assert_eq!(
            split(&[bom, message].concat()),
            (bom.to_vec(), message.to_vec())
        );
        for field in [
            &b"From : a@example.com\r\n\r\n"[..],
            b"From \t: a\r\n",
            b"From \r\n",
        ] {
            assert_eq!(split(field), (Vec::new(), field.to_vec()), "{field:?}");
        }
        assert_eq!(split(b"From x"), (b"From x".to_vec(), Vec::new()));
        let two = [
            mbox.as_slice(),
            message,
            b"\n>From a quoted body line\r\n\r\nFrom: not a separator\r\n\n",
            mbox,
            message,
        ]
        .concat();
        let saved = SavedMessage::new(two);
        let at = saved.next_mbox_message().unwrap();
        assert!(saved.message[at..].starts_with(b"From a@example.com Sat"));
        let one = SavedMessage::new([mbox.as_slice(), message].concat());
        assert_eq!(one.next_mbox_message(), None);
        // Without a separator in front, the file is a message, whatever its body holds.
        let plain = SavedMessage::new([message.as_slice(), b"\r\n", mbox].concat());
        assert_eq!(plain.next_mbox_message(), None);
        let notes: Vec<Option<String>> = [
            &message[..],
            &[bom, message].concat(),
            &[mbox.as_slice(), message].concat(),
            &[bom, mbox, message].concat(),
        ]
        .iter()
        .map(|raw| SavedMessage::new(raw.to_vec()).note())
        .collect();
        assert_eq!(notes[0], None);
        assert!(
            notes[1]
                .as_deref()
                .unwrap()
                .contains("a byte order mark before")
        );
        assert!(
            notes[2]
                .as_deref()
                .unwrap()
                .contains("an mbox 'From ' line before")
        );
        assert!(
            notes[3]
                .as_deref()
                .unwrap()
                .contains("a byte order mark and an mbox 'From ' line")
        );
    }
}
