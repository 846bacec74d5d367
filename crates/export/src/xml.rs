//! A thin layer over `quick-xml`'s writer: start, end and text elements, every text escaped
//! by quick-xml and cleaned of characters XML does not allow.

use std::io;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesPI, BytesStart, BytesText, Event};

use crate::text::xml_safe;

/// An XML writer with two-space indentation.
pub(crate) struct Xml<W: io::Write> {
    writer: Writer<W>,
}

impl<W: io::Write> Xml<W> {
    /// A writer over `out`.
    pub(crate) fn new(out: W) -> Self {
        Self {
            writer: Writer::new_with_indent(out, b' ', 2),
        }
    }

    /// `<?xml version="1.0" encoding="UTF-8"?>` (with `standalone` when given).
    pub(crate) fn declaration(&mut self, standalone: Option<&str>) -> io::Result<()> {
        self.writer.write_event(Event::Decl(BytesDecl::new(
            "1.0",
            Some("UTF-8"),
            standalone,
        )))
    }

    /// A processing instruction, e.g. the OFX header.
    pub(crate) fn pi(&mut self, content: &str) -> io::Result<()> {
        self.writer.write_event(Event::PI(BytesPI::new(content)))
    }

    /// An XML comment (its text must not hold `--`).
    pub(crate) fn comment(&mut self, text: &str) -> io::Result<()> {
        let safe = xml_safe(text).replace("--", "-");
        self.writer
            .write_event(Event::Comment(BytesText::from_escaped(format!(" {safe} "))))
    }

    /// `<name attr="value" ...>`.
    pub(crate) fn start(&mut self, name: &str, attributes: &[(&str, &str)]) -> io::Result<()> {
        let mut start = BytesStart::new(name);
        for (key, value) in attributes {
            start.push_attribute((*key, *value));
        }
        self.writer.write_event(Event::Start(start))
    }

    /// `</name>`.
    pub(crate) fn end(&mut self, name: &str) -> io::Result<()> {
        self.writer.write_event(Event::End(BytesEnd::new(name)))
    }

    /// `<name attr="value">text</name>`.
    pub(crate) fn leaf_with(
        &mut self,
        name: &str,
        attributes: &[(&str, &str)],
        text: &str,
    ) -> io::Result<()> {
        let safe = xml_safe(text);
        self.writer
            .create_element(name)
            .with_attributes(attributes.iter().copied())
            .write_text_content(BytesText::new(&safe))?;
        Ok(())
    }

    /// `<name>text</name>`.
    pub(crate) fn leaf(&mut self, name: &str, text: &str) -> io::Result<()> {
        self.leaf_with(name, &[], text)
    }

    /// `<name>text</name>` when `text` is set and not blank.
    pub(crate) fn opt_leaf(&mut self, name: &str, text: Option<&str>) -> io::Result<()> {
        match text.map(str::trim) {
            Some(t) if !t.is_empty() => self.leaf(name, t),
            _ => Ok(()),
        }
    }

    /// A final line break, then flushes the output.
    pub(crate) fn finish(&mut self) -> io::Result<()> {
        self.writer.get_mut().write_all(b"\n")?;
        self.writer.get_mut().flush()
    }
}
