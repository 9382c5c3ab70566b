//! From a theme file's text to its styles, collecting every error with line:col and key path.

use ratatui::style::{Color, Modifier, Style};
use toml_edit::{Item, TableLike};

use super::TOKENS;
use crate::config::Diagnostic;
use crate::config::diagnostic::SourceFile;
use crate::config::tree::{Reader, Tbl, join};

/// The keys of one token's style, each with the modifier it sets (none for the colours).
const STYLE_KEYS: [(&str, Option<Modifier>); 7] = [
    ("fg", None),
    ("bg", None),
    ("bold", Some(Modifier::BOLD)),
    ("italic", Some(Modifier::ITALIC)),
    ("underline", Some(Modifier::UNDERLINED)),
    ("reversed", Some(Modifier::REVERSED)),
    ("dim", Some(Modifier::DIM)),
];

/// What a colour may be: ratatui's names (it also takes spellings such as "light-red" and
/// "grey"), "#rrggbb" or an index into the 256-colour palette.
const COLOUR_FORMS: &str = concat!(
    "use a name (black, red, green, yellow, blue, magenta, cyan, gray, darkgray, lightred, ",
    "lightgreen, lightyellow, lightblue, lightmagenta, lightcyan, white, reset), ",
    "\"#rrggbb\" or an index \"0\" to \"255\""
);

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
        workdirs: Vec::new(),
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
    unknown_keys(r, t, table, &STYLE_KEYS.map(|(k, _)| k), "key", "keys");
    let mut style = Style::default();
    let mut ok = true;
    for (key, modifier) in STYLE_KEYS {
        let Some(f) = t.get(key) else { continue };
        let read = match modifier {
            None => colour(f.item).map(|c| match key {
                "fg" => style.fg(c),
                _ => style.bg(c),
            }),
            // `false` takes the modifier away, so a style laid over a bold one can unbold it.
            Some(m) => flag(f.item).map(|on| match on {
                true => style.add_modifier(m),
                false => style.remove_modifier(m),
            }),
        };
        match read {
            Ok(s) => style = s,
            Err(message) => {
                ok = false;
                r.error(f.span, &f.path, message);
            }
        }
    }
    ok.then_some(style)
}

fn colour(item: &Item) -> Result<Color, String> {
    let Some(text) = item.as_str() else {
        return Err(format!(
            "expected a colour string such as \"red\" or \"#dc322f\", found {}",
            item.type_name()
        ));
    };
    text.parse()
        .map_err(|_| format!("bad colour \"{text}\": {COLOUR_FORMS}"))
}

fn flag(item: &Item) -> Result<bool, String> {
    item.as_bool()
        .ok_or_else(|| format!("expected true or false, found {}", item.type_name()))
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
