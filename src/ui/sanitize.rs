//! Every string that came from outside (probe details, command output, config text) is
//! stripped of control characters and escape sequences before it is drawn: a health
//! endpoint must not be able to drive the operator's terminal.

use std::borrow::Cow;

/// Bidirectional overrides and isolates: they reorder what the operator reads.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

fn is_unsafe(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// The text with escape sequences removed, other control characters dropped and line
/// breaks and tabs turned into spaces.
pub fn clean(text: &str) -> Cow<'_, str> {
    // No secret the console knows is ever drawn or written from here.
    match crate::redact::scrub_known(text) {
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
            '\n' | '\r' | '\t' => out.push(' '),
            c if is_unsafe(c) => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
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
}
