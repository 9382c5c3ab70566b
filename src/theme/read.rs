//! From a theme file's text to its styles, collecting every error with line:col and key path.

use ratatui::style::{Color, Modifier, Style};
use toml_edit::{Item, TableLike};

use super::TOKENS;
use crate::config::Diagnostic;
use crate::config::diagnostic::SourceFile;
use crate::config::tree::{Reader, Tbl, join};

/// The keys of one token's style, each with the modifier it sets (none for the colours).
const STYLE_KEYS: &[(&str, Option<Modifier>)] = &[
    ("fg", None),
    ("bg", None),
    ("bold", Some(Modifier::BOLD)),
    ("italic", Some(Modifier::ITALIC)),
    ("underline", Some(Modifier::UNDERLINED)),
    ("reversed", Some(Modifier::REVERSED)),
    ("dim", Some(Modifier::DIM)),
];

/// Every token's style in [`TOKENS`] order, or every error found.
pub(super) fn read(src: &SourceFile) -> Result<[Style; TOKENS.len()], Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let doc = match toml_edit::Document::parse(src.text.as_str()) {
        Ok(doc) => doc,
        Err(e) => {
            let message = format!("TOML syntax: {}", e.message().trim());
            return Err(vec![Diagnostic::at(src, e.span(), "", message)]);
        }
    };
    let root = doc.as_table();
    let mut r = Reader {
        src,
        diags: &mut diags,
    };
    let mut top = Tbl::new(root, String::new(), None);
    unknown_keys(&mut r, &top, root, TOKENS, "token", "tokens");

    let mut styles = [None; TOKENS.len()];
    for (slot, &token) in styles.iter_mut().zip(TOKENS) {
        if !top.has(token) {
            // A theme is complete or refused: a missing token would silently draw in
            // whatever lies beneath, which can hide a status.
            r.error(None, "", format!("missing token `{token}`"));
            continue;
        }
        if let Some(mut t) = top.opt_table(&mut r, token) {
            let table = root
                .get(token)
                .and_then(Item::as_table_like)
                .expect("opt_table found a table");
            *slot = read_style(&mut r, &mut t, table);
        }
    }

    // Reported in the order they are written, however they were found.
    diags.sort_by_key(|d| d.location);
    if diags.is_empty() {
        Ok(styles.map(|s| s.expect("no error, so every token was read")))
    } else {
        Err(diags)
    }
}

/// One token's style; `None` if any of its keys was wrong (the errors are recorded).
fn read_style(r: &mut Reader, t: &mut Tbl, table: &dyn TableLike) -> Option<Style> {
    let keys: Vec<&str> = STYLE_KEYS.iter().map(|(k, _)| *k).collect();
    unknown_keys(r, t, table, &keys, "key", "keys");
    let mut style = Style::default();
    let mut ok = true;
    for &(key, modifier) in STYLE_KEYS {
        let Some(f) = t.get(key) else { continue };
        match modifier {
            None => match f.item.as_str() {
                Some(text) => match colour(text) {
                    Some(c) if key == "fg" => style = style.fg(c),
                    Some(c) => style = style.bg(c),
                    None => {
                        ok = false;
                        r.error(f.span, &f.path, format!("bad colour \"{text}\": use a name ({}), \"#rrggbb\" or an index \"0\" to \"255\"", COLOUR_NAMES.join(", ")));
                    }
                },
                None => {
                    ok = false;
                    r.error(
                        f.span,
                        &f.path,
                        format!(
                            "expected a colour string such as \"red\" or \"#dc322f\", found {}",
                            f.item.type_name()
                        ),
                    );
                }
            },
            // `false` takes the modifier away, so a style laid over a bold one can unbold it.
            Some(m) => match f.item.as_bool() {
                Some(true) => style = style.add_modifier(m),
                Some(false) => style = style.remove_modifier(m),
                None => {
                    ok = false;
                    r.error(
                        f.span,
                        &f.path,
                        format!("expected true or false, found {}", f.item.type_name()),
                    );
                }
            },
        }
    }
    ok.then_some(style)
}

/// The colour names ratatui knows (it also takes spellings such as "light-red" and "grey").
const COLOUR_NAMES: &[&str] = &[
    "black",
    "red",
    "green",
    "yellow",
    "blue",
    "magenta",
    "cyan",
    "gray",
    "darkgray",
    "lightred",
    "lightgreen",
    "lightyellow",
    "lightblue",
    "lightmagenta",
    "lightcyan",
    "white",
    "reset",
];

/// A colour name, "#rrggbb" or an index 0–255, as ratatui parses them.
fn colour(text: &str) -> Option<Color> {
    text.parse().ok()
}

/// Reports each key of `table` that is not in `known`.
fn unknown_keys(
    r: &mut Reader,
    t: &Tbl,
    table: &dyn TableLike,
    known: &[&str],
    what: &str,
    whats: &str,
) {
    for (key, _) in table.iter() {
        if !known.contains(&key) {
            r.error(
                t.key_span(key),
                &join(&t.path, key),
                format!("unknown {what} `{key}` ({whats}: {})", known.join(", ")),
            );
        }
    }
}
