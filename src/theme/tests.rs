use std::fs;
use std::path::Path;

use ratatui::style::{Color, Modifier, Style};

use super::*;

/// A valid theme with every token plain, with `extra` lines first (TOML takes the first
/// definition of a key as an error, so `extra` may only add tokens that the rest omit).
fn full_theme(skip: &[&str], extra: &str) -> String {
    let mut text = extra.to_string();
    for token in TOKENS.iter().filter(|t| !skip.contains(t)) {
        text.push_str(&format!("{token} = {{}}\n"));
    }
    text
}

fn diagnostics(text: &str) -> Vec<String> {
    validate(&SourceFile::new("t.toml", text.to_string()))
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn status_styles(t: &Theme) -> [(&'static str, Style); 5] {
    [
        ("up", t.up),
        ("degraded", t.degraded),
        ("down", t.down),
        ("unknown", t.unknown),
        ("stale", t.stale),
    ]
}

#[test]
fn builtin_names_are_the_embedded_files_and_every_file_in_themes() {
    let embedded: Vec<&str> = BUILTINS.iter().map(|(n, _)| *n).collect();
    assert_eq!(embedded, Theme::builtin_names());
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("themes");
    let mut on_disk: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut names: Vec<String> = embedded.iter().map(|n| n.to_string()).collect();
    names.sort();
    assert_eq!(
        on_disk, names,
        "a file in themes/ that is not embedded, or the reverse"
    );
}

#[test]
fn every_builtin_parses_and_validates_clean() {
    for (name, text) in BUILTINS {
        let src = SourceFile::new(builtin_path(name), text.to_string());
        assert_eq!(validate(&src), vec![], "{name}");
        assert_eq!(Theme::builtin(name).unwrap().name, *name);
    }
    assert_eq!(check_all(None), vec![]);
    assert_eq!(Theme::default().name, "dark");
    assert!(Theme::builtin("no-such-theme").is_none());
}

#[test]
fn resolve_by_name_gives_the_builtin() {
    let t = Theme::resolve("solarized-dark", None, false).unwrap();
    assert_eq!(t, Theme::builtin("solarized-dark").unwrap());
    assert_eq!(t.background.bg, Some(Color::Rgb(0x00, 0x2b, 0x36)));
}

#[test]
fn resolve_by_path_reads_the_file_and_names_the_theme_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ops-wall.toml");
    fs::write(
        &path,
        full_theme(&["down"], "down = { fg = \"#ff0000\", bold = true }\n"),
    )
    .unwrap();
    let t = Theme::resolve(path.to_str().unwrap(), None, false).unwrap();
    assert_eq!(t.name, "ops-wall");
    assert_eq!(t.down, Style::new().fg(Color::Rgb(255, 0, 0)).bold());
    assert_eq!(t.up, Style::new());

    // A path is never looked up by name, even when a built-in of that name exists.
    let missing = dir.path().join("dark.toml");
    let e = Theme::resolve(missing.to_str().unwrap(), None, false).unwrap_err();
    assert!(matches!(e, ThemeError::Read { .. }), "{e:?}");
    assert!(
        e.to_string()
            .starts_with(&format!("cannot read theme file {}: ", missing.display())),
        "{e}"
    );
}

#[test]
fn a_theme_in_the_user_dir_overrides_the_builtin_of_the_same_name() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("dark.toml"), full_theme(&[], "")).unwrap();
    fs::write(dir.path().join("mine.toml"), full_theme(&[], "")).unwrap();
    let t = Theme::resolve("dark", Some(dir.path()), false).unwrap();
    assert_eq!(t.name, "dark");
    assert_eq!(t.up, Style::new(), "the user's file, not the built-in");
    assert_eq!(
        Theme::resolve("mine", Some(dir.path()), false)
            .unwrap()
            .name,
        "mine"
    );
    // Names the user dir does not have still come from the built-ins.
    assert_eq!(
        Theme::resolve("light", Some(dir.path()), false).unwrap(),
        Theme::builtin("light").unwrap()
    );
}

#[test]
fn an_invalid_theme_in_the_user_dir_is_an_error_not_a_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dark.toml");
    fs::write(&path, full_theme(&["border"], "")).unwrap();
    let e = Theme::resolve("dark", Some(dir.path()), false).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "theme file {p} is not valid:\n{p}:1:1: missing token `border`",
            p = path.display()
        )
    );
}

#[test]
fn no_color_gives_monochrome_whatever_the_spec() {
    let mono = Theme::monochrome();
    for spec in ["dark", "no-such-theme", "/no/such/file.toml"] {
        assert_eq!(Theme::resolve(spec, None, true).unwrap(), mono, "{spec}");
    }
}

#[test]
fn an_unknown_name_lists_the_known_ones() {
    let e = Theme::resolve("drak", None, false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown theme `drak` (known themes: dark, deuteranopia, high-contrast, light, monochrome, solarized-dark)"
    );
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("ops-wall.toml"), full_theme(&[], "")).unwrap();
    fs::write(dir.path().join("dark.toml"), full_theme(&[], "")).unwrap();
    fs::write(dir.path().join("notes.txt"), "not a theme").unwrap();
    let e = Theme::resolve("drak", Some(dir.path()), false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown theme `drak` (known themes: dark, deuteranopia, high-contrast, light, monochrome, ops-wall, solarized-dark)"
    );
}

#[test]
fn an_invalid_theme_reports_every_error_with_line_column_and_key() {
    let text = r##"up = { fg = "greeen", bold = "yes" }
degraded = "yellow"
down = { fg = "red", colour = "blue" }
unknwn = { fg = "magenta" }
stale = { fg = 12 }
accent = { bg = "#12345" }
text = {}
muted = {}
border = {}

[selection]
fg = "black"
blink = true
"##;
    let names = "black, red, green, yellow, blue, magenta, cyan, gray, darkgray, lightred, \
                 lightgreen, lightyellow, lightblue, lightmagenta, lightcyan, white, reset";
    let keys = "fg, bg, bold, italic, underline, reversed, dim";
    assert_eq!(
        diagnostics(text),
        vec![
            "t.toml:1:1: missing token `unknown`".to_string(),
            "t.toml:1:1: missing token `background`".to_string(),
            format!(
                "t.toml:1:13: up.fg: bad colour \"greeen\": use a name ({names}), \"#rrggbb\" or an index \"0\" to \"255\""
            ),
            "t.toml:1:30: up.bold: expected true or false, found string".to_string(),
            "t.toml:2:12: degraded: expected a table, found string".to_string(),
            format!("t.toml:3:22: down.colour: unknown key `colour` (keys: {keys})"),
            "t.toml:4:1: unknwn: unknown token `unknwn` (tokens: up, degraded, down, unknown, \
             stale, accent, text, muted, border, selection, background)"
                .to_string(),
            "t.toml:5:16: stale.fg: expected a colour string such as \"red\" or \"#dc322f\", found integer"
                .to_string(),
            format!(
                "t.toml:6:17: accent.bg: bad colour \"#12345\": use a name ({names}), \"#rrggbb\" or an index \"0\" to \"255\""
            ),
            format!("t.toml:13:1: selection.blink: unknown key `blink` (keys: {keys})"),
        ]
    );
}

#[test]
fn a_syntax_error_is_one_diagnostic_with_its_place() {
    let d = diagnostics("up = { fg = \"red\"\n");
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(d[0].starts_with("t.toml:1:"), "{d:?}");
    assert!(d[0].contains("TOML syntax:"), "{d:?}");
}

#[test]
fn colours_take_names_hex_and_indexes_and_false_removes_a_modifier() {
    let extra = r##"up = { fg = "lightgreen", bg = "reset" }
down = { fg = "#DC322F", bg = "196" }
text = { bold = false, dim = true, italic = true, underline = true, reversed = true }
"##;
    let src = SourceFile::new("t.toml", full_theme(&["up", "down", "text"], extra));
    let t = Theme::from_source("t", &src).unwrap();
    assert_eq!(t.up, Style::new().fg(Color::LightGreen).bg(Color::Reset));
    assert_eq!(
        t.down,
        Style::new()
            .fg(Color::Rgb(0xdc, 0x32, 0x2f))
            .bg(Color::Indexed(196))
    );
    assert_eq!(
        t.text,
        Style::new().remove_modifier(Modifier::BOLD).add_modifier(
            Modifier::DIM | Modifier::ITALIC | Modifier::UNDERLINED | Modifier::REVERSED
        )
    );
}

#[test]
fn check_all_reports_the_user_dir_files_and_ignores_other_files() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("good.toml"), full_theme(&[], "")).unwrap();
    fs::write(dir.path().join("bad.toml"), full_theme(&[], "extra = {}\n")).unwrap();
    fs::write(dir.path().join("README"), "not toml = at all [").unwrap();
    let bad = dir.path().join("bad.toml");
    let d: Vec<String> = check_all(Some(dir.path()))
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        d,
        vec![format!(
            "{}:1:1: extra: unknown token `extra` (tokens: {})",
            bad.display(),
            TOKENS.join(", ")
        )]
    );
    assert_eq!(check_all(Some(&dir.path().join("absent"))), vec![]);
}

#[test]
fn monochrome_has_no_colours_at_all() {
    let mono = Theme::monochrome();
    assert_eq!(mono.name, "monochrome");
    for (token, style) in mono.tokens() {
        for colour in [style.fg, style.bg] {
            assert!(
                matches!(colour, None | Some(Color::Reset)),
                "monochrome {token} has colour {colour:?}"
            );
        }
    }
}

#[test]
fn every_theme_tells_the_states_apart() {
    for name in Theme::builtin_names() {
        let states = status_styles(&Theme::builtin(name).unwrap());
        for (i, (a, sa)) in states.iter().enumerate() {
            for (b, sb) in &states[i + 1..] {
                assert_ne!(sa, sb, "{name}: {a} and {b} look the same");
            }
        }
    }
}

/// Red or green, the pair a deuteranope confuses; `None` for any other colour.
fn red_or_green(c: Color) -> Option<&'static str> {
    let (r, g, b) = match c {
        Color::Red | Color::LightRed | Color::Indexed(1 | 9) => return Some("red"),
        Color::Green | Color::LightGreen | Color::Indexed(2 | 10) => return Some("green"),
        Color::Rgb(r, g, b) => (r, g, b),
        // The 6×6×6 colour cube of the 256-colour palette.
        Color::Indexed(i @ 16..=231) => {
            let level = |n: u8| [0, 95, 135, 175, 215, 255][usize::from(n)];
            let i = i - 16;
            (level(i / 36), level(i / 6 % 6), level(i % 6))
        }
        _ => return None,
    };
    let (max, min) = (r.max(g).max(b), r.min(g).min(b));
    // Greys have no hue.
    if max == 0 || f64::from(max - min) / f64::from(max) < 0.25 {
        return None;
    }
    let (r, g, b) = (f64::from(r), f64::from(g), f64::from(b));
    let d = f64::from(max - min);
    let hue = if r >= g && r >= b {
        (60.0 * (g - b) / d).rem_euclid(360.0)
    } else if g >= b {
        60.0 * (b - r) / d + 120.0
    } else {
        60.0 * (r - g) / d + 240.0
    };
    match hue {
        h if !(20.0..345.0).contains(&h) => Some("red"),
        // From yellow-green (solarized's olive green is at 68°) to the green side of cyan.
        h if (65.0..170.0).contains(&h) => Some("green"),
        _ => None,
    }
}

fn red_green_pairs(t: &Theme) -> Vec<String> {
    let states = status_styles(t);
    let mut pairs = Vec::new();
    for (i, (a, sa)) in states.iter().enumerate() {
        for (b, sb) in &states[i + 1..] {
            let kinds = (sa.fg.and_then(red_or_green), sb.fg.and_then(red_or_green));
            if matches!(
                kinds,
                (Some("red"), Some("green")) | (Some("green"), Some("red"))
            ) {
                pairs.push(format!("{a}/{b}"));
            }
        }
    }
    pairs
}

#[test]
fn the_red_green_check_catches_red_green_pairs() {
    // dark uses green for up and light red for down, as most terminals do: fine for most
    // eyes, and exactly what the deuteranopia theme must not do.
    assert!(red_green_pairs(&Theme::builtin("dark").unwrap()).contains(&"up/down".into()));
    assert!(
        red_green_pairs(&Theme::builtin("solarized-dark").unwrap()).contains(&"up/down".into())
    );
    assert_eq!(red_or_green(Color::Indexed(196)), Some("red"));
    assert_eq!(red_or_green(Color::Indexed(46)), Some("green"));
    assert_eq!(red_or_green(Color::Rgb(0x99, 0x99, 0x99)), None);
}

#[test]
fn deuteranopia_never_tells_states_apart_by_red_and_green() {
    let t = Theme::builtin("deuteranopia").unwrap();
    assert_eq!(red_green_pairs(&t), Vec::<String>::new());
    for (token, style) in status_styles(&t) {
        assert!(style.fg.is_some(), "{token} has its own colour");
    }
    // Down differs from up by more than hue.
    assert_ne!(t.up.add_modifier, t.down.add_modifier);
}
