//! Editing the update's text: insertion, the cursor across lines, the editing keys.

use super::*;

pub(super) fn byte_at(text: &str, chars: usize) -> usize {
    text.char_indices()
        .nth(chars)
        .map_or(text.len(), |(i, _)| i)
}

impl Compose {
    pub(super) fn insert(&mut self, text: &str) {
        self.edited = true;
        let room = TEXT_MAX.saturating_sub(self.text.chars().count());
        let piece: String = text
            .chars()
            .filter(|c| *c == '\n' || !c.is_control())
            .take(room)
            .collect();
        let at = byte_at(&self.text, self.cursor);
        self.text.insert_str(at, &piece);
        self.cursor += piece.chars().count();
    }

    /// The start of the line the cursor is on, and of the lines before and after it.
    pub(super) fn line_starts(&self) -> Vec<usize> {
        let mut starts = vec![0];
        for (i, c) in self.text.chars().enumerate() {
            if c == '\n' {
                starts.push(i + 1);
            }
        }
        starts
    }

    pub(super) fn cursor_line(&mut self, down: bool) {
        let starts = self.line_starts();
        let line = starts.iter().rposition(|s| *s <= self.cursor).unwrap_or(0);
        let col = self.cursor - starts[line];
        let target = if down {
            if line + 1 >= starts.len() {
                return;
            }
            line + 1
        } else {
            if line == 0 {
                return;
            }
            line - 1
        };
        let len = self.text.chars().count();
        let end = starts.get(target + 1).map_or(len, |s| s - 1);
        self.cursor = (starts[target] + col).min(end);
    }

    /// A key in the text editor (the team's text; the public one is swapped in for it).
    pub(super) fn edit_text(&mut self, key: &Key) {
        match key {
            Key::Char(c) => self.insert(&c.to_string()),
            Key::Newline => self.insert("\n"),
            Key::Paste(p) => self.insert(&p.replace("\r\n", "\n").replace('\r', "\n")),
            Key::Backspace if self.cursor > 0 => {
                let at = byte_at(&self.text, self.cursor - 1);
                self.text.remove(at);
                self.cursor -= 1;
                self.edited = true;
            }
            Key::Left => self.cursor = self.cursor.saturating_sub(1),
            Key::Right => self.cursor = (self.cursor + 1).min(self.text.chars().count()),
            Key::Up => self.cursor_line(false),
            Key::Down => self.cursor_line(true),
            Key::Home => {
                let starts = self.line_starts();
                self.cursor = starts
                    .iter()
                    .rev()
                    .find(|s| **s <= self.cursor)
                    .copied()
                    .unwrap_or(0);
            }
            Key::End => {
                let len = self.text.chars().count();
                self.cursor = self
                    .line_starts()
                    .into_iter()
                    .find(|s| *s > self.cursor)
                    .map_or(len, |s| s - 1);
            }
            _ => {}
        }
    }
}
