//! The one text cleaner. Every string that came from outside (probe details, command output,
//! config text, what an operator pasted) goes through [`clean`] before it is drawn, journaled
//! in a reason, printed or sent: secrets the console knows masked, escape sequences and
//! control characters, bidi controls, invisible characters and line separators removed,
//! stacks of combining marks cut — a health endpoint must not be able to drive the
//! operator's terminal, nor a paste hide text in an update.

pub mod redact;

use std::borrow::Cow;

/// Bidirectional overrides and isolates: they reorder what the operator reads.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

/// Characters that draw nothing (zero-width space, joiners, word joiner, BOM, soft hyphen):
/// they hide text in plain sight and leave stale cells on the screen.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}' | '\u{180E}'
    )
}

/// Line and paragraph separators: a line break the terminal does not know as one.
fn is_separator(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}' | '\u{0085}')
}

/// Combining marks (the blocks a stack of diacritics is made from).
fn is_combining(c: char) -> bool {
    matches!(
        c,
        '\u{0300}'..='\u{036F}'
            | '\u{1AB0}'..='\u{1AFF}'
            | '\u{1DC0}'..='\u{1DFF}'
            | '\u{20D0}'..='\u{20FF}'
            | '\u{FE20}'..='\u{FE2F}'
    )
}

/// More combining marks than this on one character are dropped (one or two are language).
const MAX_COMBINING: usize = 2;

fn is_unsafe(c: char) -> bool {
    c.is_control() || is_bidi_control(c) || is_invisible(c) || is_separator(c) || is_combining(c)
}

/// The text with escape sequences removed, other control characters dropped and line
/// breaks and tabs turned into spaces.
pub fn clean(text: &str) -> Cow<'_, str> {
    // No secret the console knows is ever drawn or written from here.
    match crate::text::redact::scrub_known(text) {
        Cow::Borrowed(t) => strip(t),
        Cow::Owned(t) => Cow::Owned(strip(&t).into_owned()),
    }
}

/// The text without escape sequences and control characters.
fn strip(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    // Combining marks on the character last pushed.
    let mut marks = 0;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.peek() {
                // CSI: parameters and intermediates up to a final byte in @..~
                Some('[') => {
                    chars.next();
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                // OSC, DCS, APC, PM, SOS: up to BEL or ST (ESC \)
                Some(']' | 'P' | '_' | '^' | 'X') => {
                    chars.next();
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' {
                            break;
                        }
                        if c == '\u{1b}' {
                            if chars.peek() == Some(&'\\') {
                                chars.next();
                            }
                            break;
                        }
                    }
                }
                // Two-character escapes (ESC c resets the terminal, …)
                Some(_) => {
                    chars.next();
                }
                None => {}
            },
            // 8-bit CSI
            '\u{9b}' => {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            '\n' | '\r' | '\t' => {
                marks = 0;
                out.push(' ');
            }
            c if is_separator(c) => {
                marks = 0;
                out.push(' ');
            }
            c if is_combining(c) => {
                marks += 1;
                if marks <= MAX_COMBINING {
                    out.push(c);
                }
            }
            c if is_unsafe(c) => {}
            c => {
                marks = 0;
                out.push(c);
            }
        }
    }
    Cow::Owned(out)
}

/// Text typed or pasted to be sent (an update's text): [`clean`], but its line breaks kept
/// as line breaks. What the preview shows and what is sent are both this.
pub fn clean_text(text: &str) -> String {
    text.split('\n')
        .map(|line| clean(line.trim_end_matches('\r')).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        assert!(matches!(clean("db-primary: UP (12ms)"), Cow::Borrowed(_)));
    }

    #[test]
    fn escape_sequences_and_controls_are_removed() {
        assert_eq!(clean("a\x1b[2Jb"), "ab");
        assert_eq!(clean("a\x1b[38;5;196mred\x1b[0m"), "ared");
        assert_eq!(clean("title\x1b]0;pwned\x07!"), "title!");
        assert_eq!(clean("x\x1b]8;;http://evil\x1b\\link"), "xlink");
        assert_eq!(clean("reset\x1bc"), "reset");
        assert_eq!(clean("bell\x07 nul\0 del\x7f"), "bell nul del");
        assert_eq!(clean("c1\u{9b}31mcsi"), "c1csi");
        assert_eq!(clean("line\nbreak\ttab"), "line break tab");
        assert_eq!(clean("rtl\u{202E}txet"), "rtltxet");
        assert_eq!(clean("trailing\x1b"), "trailing");
    }

    #[test]
    fn invisible_characters_separators_and_stacked_marks_are_removed() {
        assert_eq!(clean("pay\u{200B}pal\u{200D}\u{FEFF}\u{2060}"), "paypal");
        assert_eq!(clean("evil\u{202E}gnp.exe\u{061C}"), "evilgnp.exe");
        assert_eq!(clean("one\u{2028}two\u{2029}three"), "one two three");
        // Two marks are language (Vietnamese "ệ" decomposed); a stack of them is not.
        assert_eq!(clean("e\u{0323}\u{0302}"), "e\u{0323}\u{0302}");
        assert_eq!(
            clean("Z\u{0300}\u{0301}\u{0302}\u{0303}\u{0304}a"),
            "Z\u{0300}\u{0301}a"
        );
        assert_eq!(
            clean_text("first\u{200B} line\r\nsecond \u{202E}line"),
            "first line\nsecond line"
        );
    }
}
