//! PDF files built byte by byte, so the fixtures are in the test and say
//! what they hold: pages of text lines in Helvetica, an optional document
//! information dictionary, and an optional (unusable) encryption entry.
//! The cross-reference table carries each object's real byte offset, so
//! strict readers accept the file as well as forgiving ones.

use harness::prelude::*;

#[derive(Default)]
pub struct Pdf {
    pages: Vec<Vec<String>>,
    info: Vec<(&'static str, String)>,
    encrypted: bool,
}

impl Pdf {
    pub fn new() -> Pdf {
        Pdf::default()
    }

    /// Adds a page showing `lines`, top to bottom (none: an empty page).
    pub fn page<S: AsRef<str>>(mut self, lines: &[S]) -> Pdf {
        self.pages
            .push(lines.iter().map(|l| l.as_ref().to_owned()).collect());
        self
    }

    /// Sets a document information entry: `Title`, `Author`, `Subject`, …
    pub fn info(mut self, key: &'static str, value: &str) -> Pdf {
        self.info.push((key, value.to_owned()));
        self
    }

    /// Marks the file encrypted with the standard security handler.
    pub fn encrypted(mut self) -> Pdf {
        self.encrypted = true;
        self
    }

    pub fn bytes(&self) -> Vec<u8> {
        // Objects 1 catalog, 2 page tree, 3 font, then a page and its
        // content stream per page, then the info and encryption entries.
        let mut objects: Vec<String> = Vec::new();
        let page_ids: Vec<usize> = (0..self.pages.len()).map(|i| 4 + 2 * i).collect();
        objects.push("<< /Type /Catalog /Pages 2 0 R >>".to_owned());
        let kids: Vec<String> = page_ids.iter().map(|id| format!("{id} 0 R")).collect();
        objects.push(format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            kids.len()
        ));
        objects.push("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned());
        for (page, id) in self.pages.iter().zip(&page_ids) {
            objects.push(format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] \
                 /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
                id + 1
            ));
            let content = content_stream(page);
            objects.push(format!(
                "<< /Length {} >>\nstream\n{content}\nendstream",
                content.len()
            ));
        }
        let mut trailer = String::new();
        if !self.info.is_empty() {
            let entries: Vec<String> = self
                .info
                .iter()
                .map(|(k, v)| format!("/{k} ({})", escape(v)))
                .collect();
            objects.push(format!("<< {} >>", entries.join(" ")));
            trailer.push_str(&format!(" /Info {} 0 R", objects.len()));
        }
        if self.encrypted {
            objects.push(
                "<< /Filter /Standard /V 1 /R 2 /Length 40 /P -4 \
                 /O <00000000000000000000000000000000> /U <00000000000000000000000000000000> >>"
                    .to_owned(),
            );
            trailer.push_str(&format!(
                " /Encrypt {} 0 R /ID [<00> <00>]",
                objects.len()
            ));
        }
        let mut out = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (i, body) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend(format!("{} 0 obj\n{body}\nendobj\n", i + 1).into_bytes());
        }
        let xref = out.len();
        out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).into_bytes());
        for offset in offsets {
            // Each entry is exactly 20 bytes, its end of line included.
            out.extend(format!("{offset:010} 00000 n \n").into_bytes());
        }
        out.extend(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R{trailer} >>\nstartxref\n{xref}\n%%EOF\n",
                objects.len() + 1
            )
            .into_bytes(),
        );
        out
    }
}

/// Draws `lines` from the top of the page down, 14 points apart.
fn content_stream(lines: &[String]) -> String {
    if lines.is_empty() {
        return String::new();
    }
    let shown: Vec<String> = lines
        .iter()
        .map(|l| format!("({}) Tj", escape(l)))
        .collect();
    format!("BT /F1 12 Tf 14 TL 72 740 Td {} ET", shown.join(" T* "))
}

/// A PDF literal string's escapes: `\`, `(` and `)`.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('(', "\\(")
        .replace(')', "\\)")
}

#[harness::test(stack = false, marks(file_processors))]
async fn the_cross_reference_table_points_at_each_object(_ctx: &TestContext) -> Result {
    let bytes = Pdf::new()
        .page(&["one"])
        .page(&["two (2)"])
        .info("Title", "T")
        .bytes();
    let text = String::from_utf8(bytes).context("the PDF is not ASCII")?;
    let xref = text.rfind("startxref\n").context("no startxref")?;
    let at: usize = text[xref + 10..]
        .lines()
        .next()
        .and_then(|l| l.parse().ok())
        .context("startxref has no offset")?;
    let mut table = text[at..].lines();
    ensure!(table.next() == Some("xref"), "startxref does not point at the table");
    // Catalog, page tree, font, two pages with their contents, the info.
    ensure!(table.next() == Some("0 9"), "the table does not list 9 entries");
    ensure!(table.next() == Some("0000000000 65535 f "), "entry 0 is not the free head");
    let entries: Vec<&str> = table.take(8).collect();
    for (n, entry) in entries.iter().enumerate() {
        ensure!(entry.len() == 19, "entry {entry:?} is not 20 bytes with its newline");
        let offset: usize = entry[..10].parse()?;
        let header = format!("{} 0 obj\n", n + 1);
        ensure!(
            text[offset..].starts_with(&header),
            "object {} is not at {offset}",
            n + 1
        );
    }
    ensure!(text.contains("(two \\(2\\)) Tj"), "parentheses are not escaped");
    Ok(())
}
