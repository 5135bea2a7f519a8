//! Saving figures: HTML that draws offline always; SVG, PNG and PDF through
//! a headless Chromium with the `static-export` feature.

use std::path::Path;
use std::sync::OnceLock;

use plotly::Plot;

use crate::output::write_atomic;

/// The file [`save_html`] writes beside every page: plotly.js, which the
/// page loads by this relative name.
pub const PLOTLY_JS_FILE: &str = "plotly.min.js";

/// plotly.js as the plotly crate bundles it (4.6 MB, v3.0.1 in plotly
/// 0.14), without script tags: the first of
/// [`Plot::offline_js_sources`]'s two scripts (the second is MathJax, which
/// no figure here uses). Read from there rather than vendored a second time,
/// and once per process: `offline_js_sources` formats 6.7 MB on every call,
/// and `explain` saves a page per logo.
pub fn plotly_js() -> &'static str {
    static JS: OnceLock<String> = OnceLock::new();
    JS.get_or_init(|| {
        let sources = Plot::offline_js_sources();
        let start = sources.find('>').map_or(0, |i| i + 1);
        let end = sources.find("</script>").unwrap_or(sources.len());
        sources[start.min(end)..end].to_string()
    })
}

/// Write `plot` as an HTML page that works offline, atomically, with
/// plotly.js beside it as [`PLOTLY_JS_FILE`] (written once per folder, and
/// again only when it differs). Pages in one folder share the one copy
/// (git stores identical files once), where embedding it would add 4.6 MB
/// to every page; plotly's own `to_html` loads it from a CDN, which fails
/// offline and on an air-gapped cluster. A page whose script is missing
/// says so in place of the figure.
pub fn save_html(plot: &Plot, path: &Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let js_path = dir.join(PLOTLY_JS_FILE);
    let js = plotly_js();
    let current = std::fs::read(&js_path).ok();
    if current.as_deref() != Some(js.as_bytes()) {
        write_atomic(&js_path, |w| w.write_all(js.as_bytes()))?;
    }
    let title = path
        .file_stem()
        .map(|s| {
            s.to_string_lossy()
                .replace('&', "&amp;")
                .replace('<', "&lt;")
        })
        .unwrap_or_default();
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n\
         <script src=\"{PLOTLY_JS_FILE}\"></script>\n</head>\n<body>\n\
         <script>if (!window.Plotly) document.write(\"<p>This figure needs {PLOTLY_JS_FILE} in the same \
         folder as this page; it is missing. Saving the figure again with circssnn writes it.</p>\");</script>\n\
         {}\n</body>\n</html>\n",
        plot.to_inline_html(Some("figure"))
    );
    write_atomic(path, |w| w.write_all(html.as_bytes()))
}

#[cfg(feature = "static-export")]
pub use plotly::plotly_static::ImageFormat;

/// Render `plot` to `path` (the extension is replaced by the format's) with
/// a headless Chromium driven by chromedriver, offline (plotly.js bundled).
///
/// Needs `chromedriver` and Chromium (Debian: `apt install chromium
/// chromium-driver`). The chromedriver is `WEBDRIVER_PATH` if set, else the
/// first `chromedriver` on `PATH`. PNG ignores `scale` in this setup, so
/// prefer SVG for print.
#[cfg(feature = "static-export")]
pub fn save_image(
    plot: &Plot,
    path: &Path,
    format: ImageFormat,
    width: usize,
    height: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    use plotly::export::sync::ExporterSyncExt as _;
    if std::env::var_os("WEBDRIVER_PATH").is_none() {
        // plotly_static only reads this variable; a Debian chromium-driver
        // on PATH is the common case, so find it rather than fail.
        let found = std::env::var_os("PATH")
            .iter()
            .flat_map(std::env::split_paths)
            .map(|d| d.join("chromedriver"))
            .find(|p| p.is_file())
            .ok_or("no chromedriver: install chromium-driver or set WEBDRIVER_PATH")?;
        std::env::set_var("WEBDRIVER_PATH", found);
    }
    let mut exporter = plotly::plotly_static::StaticExporterBuilder::default()
        .offline_mode(true)
        .webdriver_browser_caps(vec![
            "--headless".into(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--no-first-run".into(),
        ])
        .build()?;
    let result = exporter.write_image(plot, path, format, width, height, 1.0);
    exporter.close();
    result
}
